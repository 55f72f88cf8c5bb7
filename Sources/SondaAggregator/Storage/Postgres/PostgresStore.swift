import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SondaConfig
import SondaCore
import Synchronization

/// The aggregator's database on a PostgreSQL server (`database: postgres://…`), which several
/// aggregator replicas can share: every write is one transaction that returns after its commit,
/// results are idempotent by id across replicas, and rollups are written in the same transaction
/// as the results they count, so they stay exact whichever replica ingests and wherever one dies.
///
/// The connection pool runs from `open` until `close`.
public final class PostgresStore: AggregatorStore {
    let client: PostgresClient
    let logger: Logger
    public let faults: FaultLog
    private let pool: Task<Void, Never>
    /// The uses of the database in flight, and the task that watches them.
    let watch: ConnectionWatch
    private let watching: Task<Void, Never>
    /// How long a use of the database waits for a connection from the pool (see `patience`).
    let leasePatience: Duration
    /// Days (since 1970) whose results partition is known to exist.
    let partitions = Mutex<Set<Int64>>([])

    private init(client: PostgresClient, logger: Logger, faults: FaultLog, leasePatience: Duration) {
        self.client = client
        self.logger = logger
        self.faults = faults
        self.leasePatience = leasePatience
        faults.register(.rollupCompaction, .undecodableRollup)
        pool = Task { await client.run() }
        let watch = ConnectionWatch(logger: logger)
        self.watch = watch
        watching = Task { await watch.run() }
    }

    /// Connects, and migrates the schema unless `migrate` is false; throws when the server cannot
    /// be reached, refuses the login, or the database does not exist. Faults of its upkeep go to
    /// `faults`. A use of the database that gets no connection within `leasePatience` fails
    /// (see `patience`).
    public static func open(
        _ url: PostgresURL, migrate: Bool = true, logger: Logger = Logger(label: "sonda-aggregator.database"),
        faults: FaultLog = FaultLog(), leasePatience: Duration = patience
    ) async throws -> PostgresStore {
        do {
            try await url.connectOnce(logger: logger)
        } catch {
            throw PostgresStoreError.connect(url, error)
        }
        let store = PostgresStore(
            client: PostgresClient(configuration: url.clientConfiguration), logger: logger, faults: faults,
            leasePatience: leasePatience)
        do {
            // Under the store's deadline like any use: a driver that loses a query whose
            // connection the server ended would otherwise hold `open` for ever. The server has
            // just let a connection in, so the pool's first one may take as long as a loaded
            // machine makes it (ci73: over 5 s beside another test run).
            if migrate {
                try await store.withConnection(patience: max(leasePatience, .seconds(60))) { connection in
                    try await PostgresSchema.migrate(connection, logger: logger)
                }
            }
        } catch {
            await store.close()
            throw PostgresStoreError.connect(url, error)
        }
        return store
    }

    /// Stops the connection pool.
    public func close() async {
        pool.cancel()
        watching.cancel()
        await pool.value
        await watching.value
    }

    public var maintenance: [any Service] { [LeaderUpkeep(store: self)] }

    public func flushRollups() async throws {}

    public func ping() async throws {
        try await withConnection { [logger] connection in
            _ = try await connection.rows("SELECT 1", logger: logger)
        }
    }

    // MARK: connections

    /// How long a use of the database waits for a connection from the pool, unless `open` says
    /// otherwise. A pool whose server is down only fails its waiters when its circuit breaker trips,
    /// a minute later; past this the store fails at once (the API answers 503), and the pool goes
    /// on trying in the background.
    public static let patience: Duration = .seconds(5)

    /// How long one use of a connection may take before the connection is closed under it. The
    /// longest legitimate uses (a compaction round, a chunk of `migrate`, a round saving thousands
    /// of alerts) take seconds, and more than 30 s on a loaded 2-core machine.
    static let useDeadline: Duration = .seconds(120)

    /// Runs `body` on a connection of the pool; throws `PostgresStoreError.unreachable` when none
    /// comes within `leasePatience` (the body never ran) and `.noAnswer` when the body outlives
    /// `useDeadline` or `.closedUnderQuery` when the server closed its connection under it without
    /// the driver answering (either may have committed), and wraps the driver's errors so the API
    /// can tell them apart.
    /// A request that gives up does not wait for the pool to notice: while the server restarts,
    /// the pool may answer a cancelled wait only once it has a connection again, and a request
    /// answered late is an agent's batch held for nothing. The body never runs after giving up.
    /// `patience` replaces `leasePatience` for one use.
    func withConnection<T: Sendable>(
        patience: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let answer = ResumeOnce<T>()
        let use = ConnectionWatch.Use(patience: patience ?? leasePatience) { answer.resume(with: .failure($0)) }
        let (client, watch) = (client, watch)
        watch.add(use)
        let work = Task {
            defer { watch.remove(use) }
            do {
                let value = try await client.withConnection { connection in
                    guard use.start(on: connection) else { throw CancellationError() }
                    return try await body(connection)
                }
                answer.resume(with: .success(value))
            } catch {
                answer.resume(with: .failure(error))
            }
        }
        use.setWork(work)
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { answer.wait($0) }
            } onCancel: {
                work.cancel()
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch let error as LeaseLost {
            throw error
        } catch let error as PostgresTransactionError where error.closureError is LeaseLost {
            throw error.closureError!
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw PostgresStoreError.failed(error)
        }
    }

    // MARK: retention

    public func prune(rawBefore: Date, rollupsBefore: Date) async throws -> Int {
        try await withConnection { [logger] connection in
            let rawDay = Int64((rawBefore.timeIntervalSince1970 / 86_400).rounded(.down))
            let minute = Int64(rawBefore.timeIntervalSince1970 / 60)
            let hour = Int64(rollupsBefore.timeIntervalSince1970 / 3600)
            var removed = 0
            // Whole days of results go with their partition; the day rawBefore falls in stays.
            for day in try await self.partitionDays(on: connection) where day < rawDay {
                let table = Self.partitionName(day: day)
                for n in try await connection.rows(
                    PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger
                ).decode(Int.self) {
                    removed += n
                }
                try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(table)"), logger: logger)
                _ = self.partitions.withLock { $0.remove(day) }
                logger.notice("retention: dropped results partition \(table)")
            }
            try await connection.withTransaction(logger: logger) { [logger] connection in
                try await connection.query("DELETE FROM latency_minute WHERE minute < \(minute)", logger: logger)
                try await connection.query("DELETE FROM outcome_minute WHERE minute < \(minute)", logger: logger)
                try await connection.query("DELETE FROM latency_hour WHERE hour < \(hour)", logger: logger)
                try await connection.query("DELETE FROM outcome_hour WHERE hour < \(hour)", logger: logger)
                try await connection.query("DELETE FROM latency_day WHERE day < \(hour / 24)", logger: logger)
                try await connection.query("DELETE FROM outcome_day WHERE day < \(hour / 24)", logger: logger)
            }
            return removed
        }
    }

    @discardableResult
    public func pruneExpired(now: Date) async throws -> ExpiredRows {
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        return try await withConnection { [logger] connection in
            var removed = ExpiredRows()
            for n in try await connection.rows(
                "WITH gone AS (DELETE FROM silences WHERE ends_at_ms <= \(ms) RETURNING 1) SELECT count(*) FROM gone",
                logger: logger
            ).decode(Int.self) {
                removed.silences = n
            }
            for n in try await connection.rows(
                "WITH gone AS (DELETE FROM batch_ids WHERE until_ms < \(ms) RETURNING 1) SELECT count(*) FROM gone",
                logger: logger
            ).decode(Int.self) {
                removed.batchIDs = n
            }
            return removed
        }
    }

    static func partitionName(day: Int64) -> String { "results_d\(day)" }

    /// The days that have a results partition, from the catalogue.
    func partitionDays(on connection: PostgresConnection) async throws -> [Int64] {
        var days: [Int64] = []
        let rows = try await connection.rows(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'results'::regclass
            """, logger: logger)
        for name in try rows.decode(String.self) {
            if name.hasPrefix("results_d"), let day = Int64(name.dropFirst("results_d".count)) { days.append(day) }
        }
        return days.sorted()
    }

    /// Creates the partitions of these days that do not exist yet, each in a transaction of its
    /// own under an advisory lock, so replicas creating the same day take turns.
    package func ensurePartitions(days: Set<Int64>, on connection: PostgresConnection) async throws {
        let missing = partitions.withLock { known in days.subtracting(known) }
        for day in missing.sorted() {
            let from = day * 86_400_000
            let to = from + 86_400_000
            try await connection.withTransaction(logger: logger) { [logger] connection in
                _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(Self.partitionLock))", logger: logger)
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "CREATE TABLE IF NOT EXISTS \(Self.partitionName(day: day)) PARTITION OF results FOR VALUES FROM (\(from)) TO (\(to))"
                    ), logger: logger)
            }
            _ = partitions.withLock { $0.insert(day) }
        }
    }

    static let partitionLock: Int64 = 0x534F_4E44_4103
}

extension PostgresConnection {
    /// Runs `query` and returns all its rows; every read of the store goes through here.
    ///
    /// Not `query`'s async row sequence: postgres-nio 1.33.2 traps (a precondition in
    /// `RowStreamStateMachine.channelReadComplete`) when the server closes the connection while a
    /// row stream waits for its consumer to ask for more, and a replica died that way when
    /// PostgreSQL restarted during the alert engine's 20 000-row read. Collected on the connection's
    /// event loop, rows are asked for as soon as they arrive, so the stream never waits in that state.
    func rows(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws
        -> PostgresQueryResult
    {
        try await self.query(query, logger: logger, file: file, line: line).get()
    }
}

extension PostgresQueryResult {
    func decode<each Column: PostgresDecodable>(
        _: (repeat each Column).Type, file: String = #fileID, line: Int = #line
    ) throws -> [(repeat each Column)] {
        try map { try $0.decode((repeat each Column).self, file: file, line: line) }
    }
}

/// A continuation that the first of several racing tasks resumes; a result that comes before the
/// continuation is kept for it.
private final class ResumeOnce<T: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<T, any Error>)
        case early(Result<T, any Error>)
        case done
    }
    private let state = Mutex<State>(.idle)

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { state in
            if case .early(let result) = state {
                continuation.resume(with: result)
                state = .done
            } else {
                state = .waiting(continuation)
            }
        }
    }

    func resume(with result: Result<T, any Error>) {
        state.withLock { state in
            switch state {
            case .idle: state = .early(result)
            case .waiting(let continuation):
                continuation.resume(with: result)
                state = .done
            case .early, .done: break
            }
        }
    }
}

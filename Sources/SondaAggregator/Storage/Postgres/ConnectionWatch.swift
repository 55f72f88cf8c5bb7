import Logging
import PostgresNIO
import Synchronization

/// The store's uses of the database in flight, watched by one task (`run`) for what
/// `PostgresStore.withConnection` promises: a use that gets no connection within its patience
/// gives up, and one whose body outlives `PostgresStore.useDeadline`, or whose connection the
/// server closed without the driver answering, is answered with an error. Both were seen here:
/// after the server restarted under load, a query the driver never sends (the server idle after
/// its last COMMIT, every byte delivered both ways) and waits on for ever, answered past the
/// deadline (a retried batch is idempotent), its connection closed to fail the query if it can;
/// and a query whose connection the server ended (`pg_terminate_backend`) left waiting although
/// the connection is closed, answered within seconds. Each use used to start a waiter, a patience
/// timer and a watchdog of its own: four tasks and two timers a use, 3 % of a replica's CPU in
/// ingest's timed window under `bench/pg-ingest.sh`, and a sixth of it with batches of 4 results.
final class ConnectionWatch: Sendable {
    private let uses = Mutex<[ObjectIdentifier: Use]>([:])
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    static let tick: Duration = .milliseconds(250)

    /// How often a running use's connection is looked at; three looks in a row that find it
    /// closed answer the use (`closedUnderQuery`).
    static let closedCheckInterval: Duration = .seconds(1)

    func add(_ use: Use) { uses.withLock { $0[ObjectIdentifier(use)] = use } }

    func remove(_ use: Use) { _ = uses.withLock { $0.removeValue(forKey: ObjectIdentifier(use)) } }

    /// Looks at every use each `tick`, until cancelled.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.tick)
            let now = ContinuousClock.now
            for use in uses.withLock({ Array($0.values) }) where !use.isWatched(at: now, logger: logger) {
                remove(use)
            }
        }
    }

    /// One use of the database: waiting for a connection, then running on one, or given up.
    final class Use: Sendable {
        private enum Phase {
            case waiting
            case running(PostgresConnection, since: ContinuousClock.Instant, checkedAt: ContinuousClock.Instant,
                closedChecks: Int)
            /// Given up waiting, or answered with an error while the body went on.
            case over
        }

        private let began = ContinuousClock.now
        private let patience: Duration
        private let phase = Mutex<Phase>(.waiting)
        private let work = Mutex<Task<Void, Never>?>(nil)
        /// Answers the caller with an error, whatever the body does after.
        private let fail: @Sendable (PostgresStoreError) -> Void

        init(patience: Duration, fail: @escaping @Sendable (PostgresStoreError) -> Void) {
            (self.patience, self.fail) = (patience, fail)
        }

        /// The task running the use, cancelled when the use gives up (at once, if it has).
        func setWork(_ task: Task<Void, Never>) {
            let over = phase.withLock { phase in
                if case .over = phase { return true }
                return false
            }
            work.withLock { $0 = task }
            if over { task.cancel() }
        }

        /// Whether the body may run on `connection`: false once the use gave up waiting.
        func start(on connection: PostgresConnection) -> Bool {
            phase.withLock { phase in
                guard case .waiting = phase else { return false }
                let now = ContinuousClock.now
                phase = .running(connection, since: now, checkedAt: now, closedChecks: 0)
                return true
            }
        }

        /// Gives up, answers or closes as due at `now`; false once the watch has nothing more to do.
        func isWatched(at now: ContinuousClock.Instant, logger: Logger) -> Bool {
            enum Due { case keep, drop, giveUp, closed, deadline(PostgresConnection) }
            let due: Due = phase.withLock { phase in
                switch phase {
                case .waiting where now - began >= patience:
                    phase = .over
                    return .giveUp
                case .waiting:
                    return .keep
                case .over:
                    return .drop
                case .running(let connection, let since, let checkedAt, let closedChecks):
                    if now - since >= PostgresStore.useDeadline {
                        phase = .over
                        return .deadline(connection)
                    }
                    guard now - checkedAt >= ConnectionWatch.closedCheckInterval else { return .keep }
                    let checks = connection.isClosed ? closedChecks + 1 : 0
                    guard checks < 3 else {
                        phase = .over
                        return .closed
                    }
                    phase = .running(connection, since: since, checkedAt: now, closedChecks: checks)
                    return .keep
                }
            }
            switch due {
            case .keep: return true
            case .drop: break
            case .giveUp:
                work.withLock { $0 }?.cancel()
                fail(.unreachable("no connection to the server within \(patience)"))
            case .closed:
                logger.error("the server closed a connection under a query that got no answer")
                fail(.closedUnderQuery)
            case .deadline(let connection):
                logger.error(
                    "a database query got no answer within \(PostgresStore.useDeadline); closing its connection")
                fail(.noAnswer(PostgresStore.useDeadline))
                Task { try? await connection.close() }
            }
            return false
        }
    }
}

import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SondaConfig
import SondaCore
import Synchronization
import TestSupport
import Testing

@testable import SondaAggregator

/// Work no request waits for (retention, WAL checkpoints, rollup folding and compaction) fails for
/// real here, and each fault is logged once, counted on `/metrics` and shown by `/health` until
/// its cause succeeds again.
@Suite struct BackgroundFaultTests {
    enum Store: String, CaseIterable { case sqlite, postgres }

    /// What a fault log would have written.
    final class LoggedLines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }

        func faultLog() -> FaultLog {
            FaultLog { change in self.lines.withLock { $0.append("\(change)") } }
        }
    }

    /// A store whose retention fails until `repair`: SQLite's file is write-locked by another
    /// process; PostgreSQL's day rollup table was renamed away by hand.
    struct BrokenStore {
        let store: any AggregatorStore
        let lines: LoggedLines
        let repair: @Sendable () async throws -> Void
    }

    static func broken(_ kind: Store) async throws -> BrokenStore {
        let lines = LoggedLines()
        switch kind {
        case .sqlite:
            let path = NSTemporaryDirectory() + "sonda-faults-\(UUID().uuidString).sqlite"
            let store = try SQLiteStore(path: path, faults: lines.faultLog())
            let holder = try await SQLiteHolder(path: path, "BEGIN IMMEDIATE")
            return BrokenStore(store: store, lines: lines) { await holder.release() }
        case .postgres:
            let url = try await PostgresServer.database()
            let store = try await PostgresStore.forTests(try PostgresURL(url), faults: lines.faultLog())
            _ = try await PostgresServer.psql(url, "ALTER TABLE latency_day RENAME TO latency_day_moved")
            return BrokenStore(store: store, lines: lines) {
                _ = try await PostgresServer.psql(url, "ALTER TABLE latency_day_moved RENAME TO latency_day")
            }
        }
    }

    /// `/health`'s status and body, and `/metrics`' body, as the router answers them.
    static func answers(_ store: any AggregatorStore) async throws -> (health: (UInt16, String), metrics: String) {
        let config = AggregatorConfig(database: "unused", agents: [])
        let app = Application(router: AggregatorRouter(config: config, store: store).build())
        return try await app.test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            return (
                (UInt16(health.status.code), String(buffer: health.body)), String(buffer: metrics.body)
            )
        }
    }

    @Test(arguments: Store.allCases)
    func failingRetentionIsLoggedOnceCountedAndShownUntilItRecovers(_ kind: Store) async throws {
        let broken = try await Self.broken(kind)
        let store = broken.store
        defer { Task { await store.close() } }
        let pruner = RetentionPruner(store: store, raw: .seconds(7 * 86_400), rollups: .seconds(30 * 86_400))
        await pruner.pruneOnce(now: Date())
        await pruner.pruneOnce(now: Date())

        #expect(broken.lines.all.count == 1, "logged once for two failed rounds: \(broken.lines.all)")
        #expect(broken.lines.all.first?.hasPrefix("retention: ") == true, "\(broken.lines.all)")
        var (health, metrics) = try await Self.answers(store)
        #expect(health.0 == 200, "the aggregator still serves: degraded, not down")
        #expect(health.1.contains(#""status":"degraded""#) && health.1.contains(#""cause":"retention""#), "\(health.1)")
        #expect(health.1.contains(#""occurrences":2"#), "\(health.1)")
        #expect(metrics.contains(#"sonda_faults_total{cause="retention"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"sonda_fault_persisting{cause="retention"} 1"#))

        try await broken.repair()
        await pruner.pruneOnce(now: Date())
        #expect(broken.lines.all.last == "retention: recovered after 2 faults", "\(broken.lines.all)")
        (health, metrics) = try await Self.answers(store)
        #expect(health.0 == 200 && health.1 == #"{"status":"ok"}"#, "\(health.1)")
        #expect(metrics.contains(#"sonda_faults_total{cause="retention"} 2"#))
        #expect(metrics.contains(#"sonda_fault_persisting{cause="retention"} 0"#))
    }

    /// A short raw retention is pruned often enough to hold (the soak's `raw: 5m` was pruned only
    /// every 10 minutes, so the database held three times its retention); a long one every 10 minutes.
    @Test func retentionIsPrunedEveryTenthOfAShortRawRetention() {
        #expect(RetentionPruner.defaultInterval(raw: .seconds(14 * 86_400)) == .seconds(600))
        #expect(RetentionPruner.defaultInterval(raw: .seconds(300)) == .seconds(30))
        #expect(RetentionPruner.defaultInterval(raw: .seconds(5)) == .seconds(1))
    }

    @Test func aCheckpointThatAReaderHoldsOffIsAFaultUntilItGoesThrough() async throws {
        let f = try IngestFixture()
        let lines = LoggedLines()
        let store = try SQLiteStore(path: f.config.database, faults: lines.faultLog())
        let wal = f.config.database + "-wal"
        func walBytes() -> Int { ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? Int) ?? 0 }
        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        for batch in 0..<5 {
            let results = (0..<200).map { i in
                IngestFixture.result(
                    totalMilliseconds: Double(10 + i % 90), at: f.now.addingTimeInterval(-Double(batch * 200 + i)))
            }
            try await store.write(f.batch(results: results), region: "sao_paulo")
        }
        let checkpointer = WALCheckpointer(store: store, truncateAbovePages: 10)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let connection = try DatabaseQueue(path: f.config.database, configuration: configuration)

        // A reader that keeps its snapshot (a stuck query, a backup tool): the log cannot start over.
        let reader = try await SQLiteHolder(path: f.config.database, "BEGIN; SELECT count(*) FROM results")
        await checkpointer.checkpoint(from: connection)
        #expect(lines.all.count == 1, "\(lines.all)")
        #expect(lines.all.last?.hasPrefix("wal_checkpoint: ") == true, "\(lines.all)")
        #expect(walBytes() > 10 * 4096, "the log kept its frames")
        let (health, metrics) = try await Self.answers(store)
        #expect(health.1.contains(#""cause":"wal_checkpoint""#), "\(health.1)")
        #expect(metrics.contains(#"sonda_faults_total{cause="wal_checkpoint"} 1"#), "\(metrics)")

        await reader.release()
        await checkpointer.checkpoint(from: connection)
        #expect(lines.all.last == "wal_checkpoint: recovered after 1 fault", "\(lines.all)")
        #expect(walBytes() == 0, "the log was emptied")
        #expect(store.faults.health().status == "ok")
    }

    @Test func aStoredResultThatNoLongerDecodesIsLeftOutOfTheRollupsAndReported() async throws {
        let f = try IngestFixture()
        // Rollups still in memory when the process died, and beside them a row this version
        // cannot read (written by hand, or by a newer version).
        try await Self.leaveUnfolded(20, andUndecodable: ["broken"], in: f)
        let lines = LoggedLines()
        let restarted = try SQLiteStore(path: f.config.database, faults: lines.faultLog())
        #expect(try await RollupRecoveryTests.counts(restarted).minute == 20, "the readable rows are folded")
        #expect(lines.all.count == 1, "\(lines.all)")
        #expect(
            lines.all.last?.hasPrefix("undecodable_result: 1 stored result no longer decodes") == true, "\(lines.all)")
        let (health, metrics) = try await Self.answers(restarted)
        #expect(health.0 == 200 && health.1.contains(#""cause":"undecodable_result""#), "\(health.1)")
        #expect(health.1.contains("results rowid 21"), "names the row: \(health.1)")
        #expect(metrics.contains(#"sonda_faults_total{cause="undecodable_result"} 1"#), "\(metrics)")
    }

    /// `count` results whose rollups are still in memory (as a process killed before flushing them
    /// leaves them), and after them a row for each of `ids` whose JSON does not decode.
    static func leaveUnfolded(_ count: Int, andUndecodable ids: [String], in f: IngestFixture) async throws {
        f.store.pending.waitingWriters.add(1, ordering: .relaxed)
        try await f.store.write(
            f.batch(results: RollupRecoveryTests.results(count, failing: 0, now: f.now)), region: "sao_paulo")
        try await f.store.pool.write { db in
            for id in ids {
                try db.execute(
                    sql: """
                        INSERT INTO results (id, agent, check_name, region, profile, class, started_at_ms, ok, total_ms, json)
                        VALUES (?, 'sp-clinic-01', 'auth-health', 'sao_paulo', 'none', 'authentication', 0, 1, 1, '{"id":')
                        """, arguments: [id])
            }
        }
    }

    @Test func aStoredHistogramThatNoLongerDecodesIsReportedWhenNewResultsMergeIntoIt() async throws {
        let f = try IngestFixture()
        let lines = LoggedLines()
        let store = try SQLiteStore(path: f.config.database, faults: lines.faultLog())
        let results = RollupRecoveryTests.results(20, failing: 0, now: f.now)
        try await store.write(f.batch(results: results), region: "sao_paulo")
        // One row of the minute rollup, damaged (a bucket index past the histogram's range).
        let (key, counted) = try await store.pool.write { db in
            let row = try GRDB.Row.fetchOne(
                db,
                sql:
                    "SELECT minute, region, profile, check_name, class, count FROM latency_minute WHERE phase = 'total'"
            )!
            let key = StatementArguments(Array(row.databaseValues.prefix(5)))
            try db.execute(
                sql: """
                    UPDATE latency_minute SET histogram = x'ff7f01'
                    WHERE minute = ? AND region = ? AND profile = ? AND check_name = ? AND class = ? AND phase = 'total'
                    """, arguments: key)
            return (key, row[5] as Int)
        }
        let again = results.map {
            var copy = $0
            copy.id = UUIDv7.generate()
            return copy
        }
        try await store.write(f.batch(results: again), region: "sao_paulo")

        #expect(lines.all.count == 1, "\(lines.all)")
        #expect(
            lines.all.last?.hasPrefix(
                "undecodable_rollup: 1 stored histogram of latency_minute no longer decodes; replaced by the new "
                    + "results', losing the \(counted) result\(counted == 1 ? "" : "s") it counted") == true,
            "\(lines.all)")
        let (health, metrics) = try await Self.answers(store)
        #expect(health.1.contains(#""cause":"undecodable_rollup""#), "\(health.1)")
        #expect(metrics.contains(#"sonda_faults_total{cause="undecodable_rollup"} 1"#), "\(metrics)")
        let stored = try await store.pool.read { db in
            try GRDB.Row.fetchOne(
                db,
                sql: """
                    SELECT count, histogram FROM latency_minute
                    WHERE minute = ? AND region = ? AND profile = ? AND check_name = ? AND class = ? AND phase = 'total'
                    """, arguments: key)!
        }
        #expect(stored[0] as Int == counted, "the row holds the new results only")
        #expect(LatencyHistogram(serialized: stored[1] as Data)?.count == UInt64(counted), "and decodes again")
        #expect(try await RollupRecoveryTests.counts(store).minute == 40, "the outcome counts lost nothing")
    }

    @Test func postgresCompactionFaultsAndUndecodableHistogramsAreReported() async throws {
        let url = try await PostgresServer.database()
        let lines = LoggedLines()
        let store = try await PostgresStore.forTests(try PostgresURL(url), faults: lines.faultLog())
        defer { Task { await store.close() } }
        let f = try IngestFixture()
        let past = Date().addingTimeInterval(-7200)
        for _ in 0..<3 {
            let results = RollupRecoveryTests.results(5, failing: 0, now: past)
            try await store.write(f.batch(results: results), region: "sao_paulo")
            try await store.rollUpPending()
        }
        // One of the three rows of a key, damaged (a bucket index past the histogram's range).
        _ = try await PostgresServer.psql(
            url,
            """
            UPDATE latency_minute SET total = '\\xff7f01'::bytea WHERE ctid =
                (SELECT ctid FROM latency_minute LIMIT 1)
            """)
        let compactor = LeaderUpkeep(store: store)
        await compactor.compactOnce(now: Date())
        #expect(lines.all.count == 1, "\(lines.all)")
        #expect(lines.all.last?.hasPrefix("undecodable_rollup: 1 stored histogram") == true, "\(lines.all)")
        var (health, metrics) = try await Self.answers(store)
        #expect(metrics.contains(#"sonda_faults_total{cause="undecodable_rollup"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"sonda_faults_total{cause="rollup_compaction"} 0"#))

        _ = try await PostgresServer.psql(url, "ALTER TABLE latency_hour RENAME TO latency_hour_moved")
        await compactor.compactOnce(now: Date())
        #expect(lines.all.count == 2, "\(lines.all)")
        #expect(lines.all.last?.hasPrefix("rollup_compaction: ") == true, "\(lines.all)")
        #expect(lines.all.last?.contains("postgres://") == false, "no URL, so no password: \(lines.all)")
        (health, metrics) = try await Self.answers(store)
        #expect(health.1.contains(#""cause":"rollup_compaction""#), "\(health.1)")
        #expect(metrics.contains(#"sonda_fault_persisting{cause="rollup_compaction"} 1"#))

        _ = try await PostgresServer.psql(url, "ALTER TABLE latency_hour_moved RENAME TO latency_hour")
        await compactor.compactOnce(now: Date())
        #expect(lines.all.last == "rollup_compaction: recovered after 1 fault", "\(lines.all)")
        #expect(store.faults.health().faults.map(\.cause) == ["undecodable_rollup"], "the damaged row stays reported")

        // A pending row damaged before the lease holder moved it.
        try await store.write(
            f.batch(results: RollupRecoveryTests.results(5, failing: 0, now: past)), region: "sao_paulo")
        // One row: the batch's results may straddle a minute, and so make two.
        _ = try await PostgresServer.psql(
            url,
            """
            UPDATE latency_pending SET total = '\\xff7f01'::bytea WHERE ctid =
                (SELECT ctid FROM latency_pending LIMIT 1)
            """)
        await compactor.compactOnce(now: Date())
        // The cause was logged once already: it is counted again.
        (health, metrics) = try await Self.answers(store)
        #expect(metrics.contains(#"sonda_faults_total{cause="undecodable_rollup"} 2"#), "\(metrics)")
        #expect(try await PostgresServer.psql(url, "SELECT count(*) FROM latency_pending") == "0", "moved all the same")
    }
}

/// Another process (python3's sqlite3) holding a SQLite file in a transaction until released.
final class SQLiteHolder: Sendable {
    let process: BackgroundProcess

    init(path: String, _ statements: String) async throws {
        let script = """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            for statement in sys.argv[2].split(";"):
                c.execute(statement).fetchall()
            print("held", flush=True)
            time.sleep(3600)
            """
        process = try BackgroundProcess("/usr/bin/env", ["python3", "-c", script, path, statements])
        let held = await eventually(every: .milliseconds(20)) { [process] in
            process.log.contains("held") || process.exitStatus != nil
        }
        guard held, process.log.contains("held") else {
            throw ChildProcess.SpawnFailed(description: "the SQLite holder did not start: \(process.log)")
        }
    }

    /// Ends the process, and with it its locks.
    func release() async {
        process.signal(SIGKILL)
        _ = await process.wait()
    }
}

import Foundation
import SondaConfig
import SondaCore
import Synchronization
import TestSupport
import Testing

@testable import SondaAggregator

/// `sonda-aggregator migrate`'s copy, from a real SQLite file into a throwaway PostgreSQL
/// database: the copy answers every read as the file did, the alert evaluator goes on where it
/// was, the audit chain verifies and goes on, and the file itself is never written.
@Suite struct StoreMigrationTests {
    @Test func theCopyAnswersEveryReadAsTheSQLiteFileDid() async throws {
        let f = try StatusPageFixture.fixture()
        for (batch, region) in PostgresStoreTests.batches(f) {
            try await f.store.write(
                batch, rawResults: nil, region: region, now: f.now, auditDetail: "batch=\(batch.batchID)")
        }
        // The evaluator has read all but the newest 100 results; alerts in every state; silences
        // over, active and to come.
        let stored = try #require(
            try await f.store.pool.read { try Int64.fetchOne($0, sql: "SELECT max(rowid) FROM results") })
        try await f.store.saveAlerts(
            Self.evaluation(now: f.now), cursor: stored - 100, at: f.now, lease: Lease(holder: "test", epoch: 1),
            notifications: [
                Notification(
                    key: "ops|a", receiver: "ops", body: Data("{\"status\":\"resolved\"}".utf8), alerts: 1,
                    createdAt: f.now)
            ])
        for silence in Self.silences(now: f.now) { try await f.store.insert(silence) }

        let url = try PostgresURL(try await PostgresServer.database())
        let file = try Self.contents(f.config.database)
        let progress = Mutex<[StoreMigration.Progress]>([])
        let summary = try await StoreMigration.copy(sqlite: f.config.database, to: url, chunkRows: 2500) { step in
            progress.withLock { $0.append(step) }
        }
        #expect(try Self.contents(f.config.database) == file, "the SQLite file and its WAL are only read")
        #expect(summary.tables.first?.table == "results" && summary.tables.first?.rows == Int(stored))
        #expect(summary.evaluatedResults == Int(stored) - 100 && summary.foldedResults == 0)
        #expect(summary.audit.firstBroken == nil)
        let reported = progress.withLock { $0 }.filter { $0.table == "results" }
        #expect(reported.count > 2, "results go in chunks, each reported: \(reported)")
        #expect(reported.last?.copied == Int(stored) && reported.last?.total == Int(stored))

        let postgres = try await PostgresStore.forTests(url)
        defer { Task { await postgres.close() } }
        let expected = try await StoreAnswers.of(f.store, fixture: f)
        StoreAnswers.expectSame(expected, try await StoreAnswers.of(postgres, fixture: f), "the PostgreSQL copy")
        #expect(expected["fleet 24h"]?.contains("legacy-portal") == true, "the comparison covers a populated page")

        let longAgo = f.now.addingTimeInterval(-30 * 86_400)
        let every = AlertSelection(live: [.pending, .firing], resolvedSince: longAgo)
        let alerts = try await postgres.alerts(every, after: nil, limit: 100)
        let alertsOnSQLite = try await f.store.alerts(every, after: nil, limit: 100)
        #expect(alerts == alertsOnSQLite, "\(alerts.map(\.fingerprint)) \(alertsOnSQLite.map(\.fingerprint))")
        #expect(alerts.count == 4)
        #expect(try await postgres.silences(notEndedAt: longAgo) == (try await f.store.silences(notEndedAt: longAgo)))
        #expect(try await postgres.silences(notEndedAt: f.now).map(\.comment) == ["maintenance", "next window"])
        #expect(try await postgres.pendingNotifications() == ["ops": 1], "a notification still to send moves too")
        let claimed = try await postgres.claimNotification(
            receiver: "ops", now: f.now, until: f.now.addingTimeInterval(30))
        #expect(claimed?.notification.body == Data("{\"status\":\"resolved\"}".utf8))

        // The evaluator restarts on the copy as it would have on the file: the same alerts and
        // replayed hour, then only the 100 results it had not read.
        let since = f.now.addingTimeInterval(-AlertService.warmUp)
        let (copied, original) = (
            try await postgres.alertStart(since: since), try await f.store.alertStart(since: since)
        )
        #expect(Self.sorted(copied.recent) == Self.sorted(original.recent) && !original.recent.isEmpty)
        #expect(
            copied.active.sorted { $0.fingerprint < $1.fingerprint }
                == original.active.sorted { $0.fingerprint < $1.fingerprint })
        // Other tests' transactions on the same server hold the evaluator's horizon back a moment.
        var unread = try await postgres.resultEvents(after: copied.cursor, limit: 20_000)
        _ = await eventually(every: .milliseconds(50)) {
            unread = (try? await postgres.resultEvents(after: copied.cursor, limit: 20_000)) ?? unread
            return unread.events.count >= 100
        }
        let unreadOnSQLite = try await f.store.resultEvents(after: original.cursor, limit: 20_000)
        #expect(unread.events.count == 100)
        #expect(Self.sorted(unread.events) == Self.sorted(unreadOnSQLite.events))
        #expect(try await postgres.resultEvents(after: try #require(unread.last), limit: 10).events.isEmpty)

        // The next batch's audit entry links onto the copied chain.
        let next = f.batch(results: [IngestFixture.result(totalMilliseconds: 40, at: f.now)])
        try await postgres.write(next, rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: "batch=after")
        #expect(try await postgres.verifyAudit().queued == 1)
        await StoreAnswers.chainEverything(postgres)
        let audit = try await postgres.verifyAudit()
        #expect(audit.firstBroken == nil && audit.entries == summary.audit.entries + 1 && audit.queued == 0)
    }

    @Test func resultsAKilledServeHadNotCountedYetAreCountedInTheCopy() async throws {
        let f = try StatusPageFixture.fixture()
        let (sp, rj) = (StatusPageFixture.agents[0], StatusPageFixture.agents[1])
        for (batch, region) in PostgresStoreTests.batches(f) where batch.agent == sp.id {
            try await f.store.write(batch, rawResults: nil, region: region, now: f.now, auditDetail: nil)
        }
        // Another batch is queued for the writer, so this one leaves its rollup in memory; the
        // process then dies without flushing it.
        let unfolded = f.batch(
            agent: rj.id, results: StatusPageFixture.results(agent: rj.id, region: rj.region, now: f.now))
        f.store.pending.waitingWriters.add(1, ordering: .relaxed)
        try await f.store.write(unfolded, rawResults: nil, region: rj.region, now: f.now, auditDetail: nil)

        let url = try PostgresURL(try await PostgresServer.database())
        let summary = try await StoreMigration.copy(sqlite: f.config.database, to: url, chunkRows: 5000)
        #expect(summary.foldedResults == unfolded.results.count)
        let postgres = try await PostgresStore.forTests(url)
        defer { Task { await postgres.close() } }
        // The next serve on the file folds the same results in at start.
        let restarted = try SQLiteStore(path: f.config.database)
        StoreAnswers.expectSame(
            try await StoreAnswers.of(restarted, fixture: f), try await StoreAnswers.of(postgres, fixture: f),
            "the copy of a file left by kill -9")
    }

    @Test func resultsThatNoLongerDecodeAreCopiedAndCountedButLeftOutOfTheRollups() async throws {
        let f = try IngestFixture()
        // Beside the results a killed serve had not counted, two rows this release cannot read.
        try await BackgroundFaultTests.leaveUnfolded(20, andUndecodable: ["broken-1", "broken-2"], in: f)
        let url = try PostgresURL(try await PostgresServer.database())
        let summary = try await StoreMigration.copy(sqlite: f.config.database, to: url)
        #expect(summary.foldedResults == 20)
        #expect(summary.undecodableResults.count == 2)
        #expect(summary.undecodableResults.examples.map { $0.rowID } == [21, 22])
        #expect(summary.tables.first { $0.table == "results" }?.rows == 22, "every row is copied as stored")
    }

    @Test func aDatabaseThatHoldsDataOrCannotBeUsedIsRefusedInOneLine() async throws {
        let f = try IngestFixture()
        try await f.store.write(
            f.batch(results: [IngestFixture.result(totalMilliseconds: 10, at: f.now)]), rawResults: nil,
            region: "sao_paulo", now: f.now, auditDetail: "batch=1")
        let url = try PostgresURL(try await PostgresServer.database())
        _ = try await StoreMigration.copy(sqlite: f.config.database, to: url)
        let again = await #expect(throws: MigrationError.self) {
            try await StoreMigration.copy(sqlite: f.config.database, to: url)
        }
        #expect(again?.code == .targetNotEmpty)
        #expect(again?.description.contains("already holds results, ") == true, "\(String(describing: again))")
        #expect(again?.description.contains("DROP DATABASE \(url.database); CREATE DATABASE \(url.database)") == true)

        var closed = try PostgresURL("postgres://sonda@127.0.0.1:\(try refusedLoopbackPort())/sonda")
        closed.password = "s3cret"
        let unreachable = await #expect(throws: MigrationError.self) {
            try await StoreMigration.copy(sqlite: f.config.database, to: closed)
        }
        #expect(unreachable?.code == .targetUnreachable)
        #expect(unreachable?.description.contains("postgres://sonda:***@127.0.0.1") == true)
        #expect(unreachable?.description.contains("s3cret") == false)

        var missing = url
        missing.database = "no_such_database"
        let refused = await #expect(throws: MigrationError.self) {
            try await StoreMigration.copy(sqlite: f.config.database, to: missing)
        }
        #expect(refused?.code == .targetRefused)
        #expect(refused?.description.contains(#"database "no_such_database" does not exist"#) == true)

        let notADatabase = f.directory + "/notes.txt"
        try "not a database".write(toFile: notADatabase, atomically: true, encoding: .utf8)
        let unusable = await #expect(throws: MigrationError.self) {
            try await StoreMigration.copy(sqlite: notADatabase, to: url)
        }
        #expect(unusable?.code == .unusableSource)

        try await f.store.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from a later release')")
        }
        let newer = await #expect(throws: MigrationError.self) {
            try await StoreMigration.copy(sqlite: f.config.database, to: url)
        }
        #expect(newer?.code == .unusableSource && newer?.description.contains("newer sonda-aggregator") == true)
    }

    /// An evaluation that leaves one alert firing, one pending and two resolved (one 13 days ago,
    /// near the end of the history kept).
    static func evaluation(now: Date) -> AlertEngine.Evaluation {
        func alert(_ name: String, _ state: TrackedAlert.State, since hours: Double, ended: Double? = nil)
            -> TrackedAlert
        {
            TrackedAlert(
                fingerprint: "fp-\(name)", labels: ["alertname": name, "severity": "high", "check": "booking-slots"],
                summary: "\(name) summary", description: "\(name) description", state: state,
                activeSince: now.addingTimeInterval(-hours * 3600),
                startsAt: state == .pending ? nil : now.addingTimeInterval(-hours * 3600 + 60),
                endsAt: ended.map { now.addingTimeInterval(-$0 * 3600) },
                lastSent: state == .pending ? nil : now.addingTimeInterval(-600), silenced: name == "SondaDown")
        }
        let alerts = [
            alert("SondaDown", .firing, since: 2), alert("SondaBudgetViolated", .pending, since: 0.1),
            alert("SondaTLSPolicy", .resolved, since: 60, ended: 48),
            alert("SondaCertExpiry", .resolved, since: 400, ended: 312),
        ]
        return AlertEngine.Evaluation(
            round: AlertRound(at: now, firing: [], changed: [], reminders: []), updated: alerts, dropped: [],
            changes: [.init(alert: alerts[0], transition: .fired), .init(alert: alerts[2], transition: .resolved)])
    }

    static func silences(now: Date) -> [Silence] {
        [
            Silence(
                matchers: ["check": "legacy-portal"], startsAt: now.addingTimeInterval(-2 * 86_400),
                endsAt: now.addingTimeInterval(-86_400), comment: "over"),
            Silence(
                matchers: ["check": "booking-slots"], startsAt: now.addingTimeInterval(-3600),
                endsAt: now.addingTimeInterval(3600), comment: "maintenance"),
            Silence(
                matchers: ["region": "rio_de_janeiro"], startsAt: now.addingTimeInterval(86_400),
                endsAt: now.addingTimeInterval(2 * 86_400), comment: "next window", createdAt: now),
        ]
    }

    /// Events in a total order (results of one probe round share a start time).
    static func sorted(_ events: [ResultEvent]) -> [ResultEvent] {
        events.sorted {
            ($0.startedAt, $0.agent, $0.check, $0.profile) < ($1.startedAt, $1.agent, $1.check, $1.profile)
        }
    }

    /// The database file and its WAL, byte for byte.
    static func contents(_ path: String) throws -> [Data?] {
        [path, path + "-wal"].map { FileManager.default.contents(atPath: $0) }
    }
}

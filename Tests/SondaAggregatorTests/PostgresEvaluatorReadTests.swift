import Foundation
import PostgresNIO
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// What the alert evaluator reads from PostgreSQL: every result once, in transaction order, only
/// once its transaction is over, and a page of whole transactions.
@Suite struct PostgresEvaluatorReadTests {
    @Test func aResultIsReadByTheEvaluatorOnlyOnceItsTransactionIsOverAndNeverSkipped() async throws {
        let url = try await PostgresServer.database()
        let store = try await PostgresStore.forTests(try PostgresURL(url))
        defer { Task { await store.close() } }
        let f = try IngestFixture()
        let start = try await store.alertStart(since: f.now.addingTimeInterval(-3600))
        #expect(start.recent.isEmpty)
        try await store.write(
            f.batch(results: [IngestFixture.result(totalMilliseconds: 10, at: f.now)]), rawResults: nil,
            region: "sao_paulo", now: f.now, auditDetail: nil)
        // A slow writer: its transaction writes first and commits after a later one, once the test
        // inserts into `release`.
        _ = try await PostgresServer.psql(url, "CREATE TABLE release (go int)")
        let day = Int64(f.now.timeIntervalSince1970 / 86_400)
        let slow = Task {
            try await PostgresServer.psql(
                url,
                """
                BEGIN;
                INSERT INTO results (id, started_at_ms, agent, check_name, region, profile, class, ok, total_ms, json)
                VALUES ('slow', \(day * 86_400_000 + 1), 'sp-clinic-01', 'slow-check', 'sao_paulo',
                        'desktop_brazil', 'c', true, 1, '{}');
                DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM release) LOOP PERFORM pg_sleep(0.02); END LOOP; END $$;
                COMMIT;
                """)
        }
        #expect(
            await eventually {
                (try? await PostgresServer.psql(
                    url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")) == "1"
            }, "the slow transaction has written and waits")
        try await store.write(
            f.batch(results: [IngestFixture.result(check: "fast-check", totalMilliseconds: 10, at: f.now)]),
            rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        // Transactions of other tests' databases on the same server also hold the horizon back (it
        // is the whole server's), so the first batch may take a moment to show.
        var whileOpen = try await store.resultEvents(after: start.cursor, limit: 100)
        _ = await eventually(every: .milliseconds(50)) {
            whileOpen = (try? await store.resultEvents(after: start.cursor, limit: 100)) ?? whileOpen
            return !whileOpen.events.isEmpty
        }
        #expect(whileOpen.events.map(\.check) == ["booking-slots"], "nothing past a transaction still open")
        _ = try await PostgresServer.psql(url, "INSERT INTO release VALUES (1)")
        _ = try await slow.value
        // Read a transaction at a time. Transactions of other tests' databases on the same server
        // also hold the horizon back (it is the whole server's), so wait for the two to come.
        var cursor = try #require(whileOpen.last)
        var seen: [String] = []
        _ = await eventually(every: .milliseconds(50)) {
            guard let (events, last) = try? await store.resultEvents(after: cursor, limit: 1), let last else {
                return false
            }
            seen += events.map(\.check)
            cursor = last
            return seen.count >= 2
        }
        #expect(seen == ["slow-check", "fast-check"], "in transaction order, none skipped")
    }

    /// A page of events holds whole transactions (batches): it ends before the transaction that
    /// the limit cuts, or is that one transaction whole when it is the first.
    @Test func aPageOfEventsEndsAtATransactionAndNeverSplitsOne() async throws {
        let store = try await PostgresStore.forTests(try PostgresURL(try await PostgresServer.database()))
        defer { Task { await store.close() } }
        let f = try IngestFixture()
        let start = try await store.alertStart(since: f.now.addingTimeInterval(-3600)).cursor
        for batch in ["a", "b", "c"] {
            let results = (1...3).map { IngestFixture.result(check: "\(batch)\($0)", totalMilliseconds: 10, at: f.now) }
            try await store.write(f.batch(results: results), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        }
        // Transactions of other tests' databases hold the server's horizon back for a moment.
        #expect(
            await eventually(every: .milliseconds(50)) {
                (try? await store.resultEvents(after: start, limit: 100).events.count) == 9
            })
        func checks(limit: Int) async throws -> [String] {
            try await store.resultEvents(after: start, limit: limit).events.map(\.check)
        }
        #expect(try await checks(limit: 2) == ["a1", "a2", "a3"], "the first transaction whole")
        #expect(try await checks(limit: 4) == ["a1", "a2", "a3"], "not the part of b that fits")
        #expect(try await checks(limit: 6) == ["a1", "a2", "a3", "b1", "b2", "b3"], "two transactions, exactly")
        let (nine, twenty) = (try await checks(limit: 9), try await checks(limit: 20))
        #expect(nine.count == 9 && twenty == nine)
        var cursor = start
        var seen: [String] = []
        while let (events, last) = try? await store.resultEvents(after: cursor, limit: 4), let last {
            seen += events.map(\.check)
            cursor = last
        }
        #expect(seen == ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "c3"], "page by page, none skipped or twice")
    }

    /// The evaluator's page walks the index and stops at its limit, even on a partition that has
    /// no statistics yet, where the planner would otherwise read it whole and sort it.
    @Test func aPageOfEventsWalksTheIndexOnAPartitionWithoutStatistics() async throws {
        let store = try await PostgresStore.forTests(try PostgresURL(try await PostgresServer.database()))
        defer { Task { await store.close() } }
        let f = try IngestFixture()
        for batch in 0..<4 {
            let results = (0..<50).map { IngestFixture.result(check: "c\(batch)-\($0)", totalMilliseconds: 10, at: f.now) }
            try await store.write(f.batch(results: results), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        }
        let page = PostgresStore.eventsPage(after: 0, limit: 20)
        func plan(inIndexOrder: Bool) async throws -> String {
            try await store.withConnection { connection in
                try await connection.withTransaction(logger: store.logger) { connection in
                    if inIndexOrder { try await connection.query(PostgresStore.indexOrder, logger: store.logger) }
                    let rows = try await connection.query(
                        PostgresQuery(unsafeSQL: "EXPLAIN " + page.sql, binds: page.binds), logger: store.logger)
                    var lines: [String] = []
                    for try await line in rows.decode(String.self) { lines.append(line) }
                    return lines.joined(separator: "\n")
                }
            }
        }
        // The plan without the setting, for the message only: autovacuum may have analyzed the
        // partition meanwhile, and then the planner walks the index by itself.
        let unordered = try await plan(inIndexOrder: false)
        let ordered = try await plan(inIndexOrder: true)
        #expect(
            ordered.contains("Index Scan") && !ordered.contains("Sort"),
            "\(ordered)\n(without the setting:\n\(unordered))")
    }

    /// An event names its series as written: each name, a step or none, and a series that comes
    /// again (read once per distinct series) the same as the first time.
    @Test func anEventNamesItsSeriesAsWritten() async throws {
        let store = try await PostgresStore.forTests(try PostgresURL(try await PostgresServer.database()))
        defer { Task { await store.close() } }
        let f = try IngestFixture()
        let start = try await store.alertStart(since: f.now.addingTimeInterval(-3600)).cursor
        func login(_ ms: Double) -> ProbeResult {
            IngestFixture.result(check: "login", endpointClass: "patient_login", totalMilliseconds: ms, at: f.now)
        }
        func slot(_ ms: Double) -> ProbeResult {
            var result = IngestFixture.result(check: "booking-slots", profile: "mobile_3g_brazil", totalMilliseconds: ms, at: f.now)
            result.step = "choose a slot"
            return result
        }
        let results = [login(10), slot(20), login(30), slot(40)]
        try await store.write(f.batch(results: results), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        var events: [ResultEvent] = []
        _ = await eventually(every: .milliseconds(50)) {
            events = (try? await store.resultEvents(after: start, limit: 100).events) ?? []
            return !events.isEmpty
        }
        let names = events.map { [$0.check, $0.endpointClass, $0.agent, $0.region, $0.profile, $0.step ?? "none"] }
        #expect(
            names == [
                ["login", "patient_login", "sp-clinic-01", "sao_paulo", "desktop_brazil", "none"],
                ["booking-slots", "appointment_booking", "sp-clinic-01", "sao_paulo", "mobile_3g_brazil", "choose a slot"],
                ["login", "patient_login", "sp-clinic-01", "sao_paulo", "desktop_brazil", "none"],
                ["booking-slots", "appointment_booking", "sp-clinic-01", "sao_paulo", "mobile_3g_brazil", "choose a slot"],
            ])
    }
}

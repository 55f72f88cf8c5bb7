import Foundation
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// The PostgreSQL store against a real server (a throwaway cluster, scripts/test-postgres), held to
/// the SQLite store as the reference: the same batches written to both must answer every read of
/// the API and the status page identically, and PostgreSQL must stay exact with several
/// writers on one database.
extension PostgresStore {
    /// A store that waits for a connection as long as a loaded machine may need: with three test
    /// runs on 2 cores, opening a connection took longer than `serve`'s `patience` (5 s, to answer
    /// agents quickly), which no test here depends on. A server that cannot be reached at first is
    /// tried again, as `serve` does (`StoreOpening`): one run saw the server close a connection
    /// before the login while the machine was busy, and nothing in its log said why.
    static func forTests(_ url: PostgresURL, faults: FaultLog = FaultLog()) async throws -> PostgresStore {
        for _ in 0..<10 {
            do {
                return try await open(url, faults: faults, leasePatience: .seconds(120))
            } catch let error as PostgresStoreError where error.isUnreachable {
                try await Task.sleep(for: .seconds(1))
            }
        }
        return try await open(url, faults: faults, leasePatience: .seconds(120))
    }
}

@Suite struct PostgresStoreTests {
    static func open() async throws -> PostgresStore {
        try await PostgresStore.forTests(try PostgresURL(try await PostgresServer.database()))
    }

    /// The status page fixture's month of results, in batches of 2 500 per agent.
    static func batches(_ f: IngestFixture) -> [(ResultBatch, region: String)] {
        StatusPageFixture.agents.flatMap { agent in
            let all = StatusPageFixture.results(agent: agent.id, region: agent.region, now: f.now)
            return stride(from: 0, to: all.count, by: 2500).map {
                (f.batch(agent: agent.id, results: Array(all[$0..<min($0 + 2500, all.count)])), agent.region)
            }
        }
    }

    @Test func everyReadAnswersAsSQLiteDoes() async throws {
        let f = try StatusPageFixture.fixture()
        let postgres = try await Self.open()
        defer { Task { await postgres.close() } }
        let stores: [any AggregatorStore] = [f.store, postgres]
        let batches = Self.batches(f)
        for (batch, region) in batches {
            for store in stores {
                let receipt = try await store.write(
                    batch, rawResults: nil, region: region, now: f.now, auditDetail: "batch=\(batch.batchID)")
                #expect(receipt.accepted == batch.results.count && receipt.duplicates == 0)
            }
        }
        // A batch sent again counts nothing twice.
        let (again, region) = try #require(batches.first)
        for store in stores {
            let receipt = try await store.write(again, rawResults: nil, region: region, now: f.now, auditDetail: nil)
            #expect(receipt.accepted == 0 && receipt.duplicates == again.results.count)
        }

        let expected = try await StoreAnswers.of(f.store, fixture: f)
        let actual = try await StoreAnswers.of(postgres, fixture: f)
        StoreAnswers.expectSame(expected, actual, "PostgreSQL")
        #expect(expected["audit"]?.contains("firstBroken: nil") == true)
        #expect(expected["fleet 24h"]?.contains("legacy-portal") == true, "the comparison covers a populated page")
    }

    /// A database that v6 left holds a latency row per phase; v7 turns them into rows per key
    /// with every phase in one value, and no read answers differently.
    @Test func migrationV7KeepsEveryAnswerOfRowsPerPhase() async throws {
        let f = try StatusPageFixture.fixture()
        let url = try await PostgresServer.database()
        let postgres = try await PostgresStore.forTests(try PostgresURL(url))
        for (batch, region) in Self.batches(f) {
            for store in [f.store, postgres] as [any AggregatorStore] {
                try await store.write(batch, rawResults: nil, region: region, now: f.now, auditDetail: nil)
            }
        }
        // v6 had no pending rows: its ingest wrote every span's table.
        try await postgres.rollUpPending()
        await postgres.close()
        try await f.store.flushRollups()
        let expected = try await StoreAnswers.of(f.store, fixture: f)
        // The latency tables as v6 had them: SQLite's rows, which have v6's layout.
        var perPhase = 0
        for span in ["minute", "hour", "day"] {
            let check = span == "minute" ? "check_name, " : ""
            let columns = "\(span), region, profile, \(check)class, phase, count, histogram"
            let csv = try await ChildProcess.run(
                "/usr/bin/sqlite3",
                [
                    "-csv", f.config.database,
                    "SELECT \(span), region, profile, \(check)class, phase, count, '\\x' || hex(histogram) FROM latency_\(span)",
                ])
            let file = f.directory + "/latency_\(span).csv"
            try csv.stdout.write(toFile: file, atomically: true, encoding: .utf8)
            perPhase += csv.lines.count
            _ = try await PostgresServer.psql(
                url,
                """
                DROP TABLE latency_\(span);
                CREATE TABLE latency_\(span) (\(span) bigint NOT NULL, region text NOT NULL, profile text NOT NULL,
                    \(check.isEmpty ? "" : "check_name text NOT NULL, ")class text NOT NULL, phase text NOT NULL,
                    count bigint NOT NULL, histogram bytea NOT NULL)
                """)
            _ = try await PostgresServer.psql(url, "\\copy latency_\(span) (\(columns)) FROM '\(file)' CSV")
        }
        #expect(perPhase > 1000, "the fixture fills the latency tables")
        _ = try await PostgresServer.psql(url, "DELETE FROM schema_migrations WHERE name LIKE 'v7:%'")

        let migrated = try await PostgresStore.forTests(try PostgresURL(url))
        defer { Task { await migrated.close() } }
        let allRows =
            "SELECT (SELECT count(*) FROM latency_minute) + (SELECT count(*) FROM latency_hour) + (SELECT count(*) FROM latency_day)"
        let rows = try await PostgresServer.psql(url, allRows)
        #expect(Int(rows) == perPhase, "each row of one phase becomes a row of its own")
        StoreAnswers.expectSame(expected, try await StoreAnswers.of(migrated, fixture: f), "PostgreSQL after v7")
        try await migrated.compactRollups(now: f.now)
        StoreAnswers.expectSame(expected, try await StoreAnswers.of(migrated, fixture: f), "v7's rows compacted")
        let compacted = try await PostgresServer.psql(url, allRows)
        #expect(try #require(Int(compacted)) * 3 < perPhase, "compaction merges a key's phases into one row")
    }

    @Test func twoReplicasIngestingTheSameBatchesAtOnceCountEachResultOnce() async throws {
        let url = try PostgresURL(try await PostgresServer.database())
        let replicas = [try await PostgresStore.forTests(url), try await PostgresStore.forTests(url)]
        defer { for replica in replicas { Task { await replica.close() } } }
        let f = try StatusPageFixture.fixture()
        let batches = Array(Self.batches(f).prefix(6))
        // Each replica gets every batch, in opposite orders: every write but one of each races.
        // A write is sent again as an agent does after a 503: a busy machine may open the pools'
        // first connections past the store's patience (`unreachable`: nothing was written), or
        // hold a write past its deadline (`noAnswer`: it may have committed, so its receipt is lost).
        let writes = try await withThrowingTaskGroup(of: (receipt: BatchReceipt, unanswered: Int).self) { group in
            for (i, replica) in replicas.enumerated() {
                for (batch, region) in i == 0 ? batches : batches.reversed() {
                    group.addTask {
                        var unanswered = 0
                        while true {
                            do {
                                let receipt = try await replica.write(
                                    batch, rawResults: nil, region: region, now: f.now,
                                    auditDetail: "batch=\(batch.batchID)")
                                return (receipt, unanswered)
                            } catch PostgresStoreError.unreachable {
                            } catch PostgresStoreError.noAnswer {
                                unanswered += 1
                            }
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let receipts = writes.map(\.receipt)
        let unanswered = writes.map(\.unanswered).reduce(0, +)
        let sent = batches.map(\.0.results.count).reduce(0, +)
        if unanswered == 0 {
            #expect(receipts.map(\.accepted).reduce(0, +) == sent, "each result accepted by exactly one replica")
            #expect(receipts.map(\.duplicates).reduce(0, +) == sent)
        } else {
            #expect(receipts.map(\.accepted).reduce(0, +) <= sent, "no result accepted twice")
        }
        let database = "postgres://\(url.user)@\(url.host):\(url.port)/\(url.database)"
        #expect(try await PostgresServer.psql(database, PostgresServer.rollupsCountEveryResultOnce) == "t")
        // Both replicas move the pending rows at once: each row is moved, and counted, once.
        async let movedByFirst = replicas[0].rollUpPending(limit: 50)
        async let movedBySecond = replicas[1].rollUpPending(limit: 50)
        #expect(try await movedByFirst + movedBySecond > 0)
        let counts = try await PostgresServer.psql(
            database,
            """
            SELECT (SELECT count(*) FROM results), (SELECT sum(count) FROM outcome_minute),
                   (SELECT sum(count) FROM outcome_hour), (SELECT sum(count) FROM outcome_day),
                   (SELECT sum(count) FROM latency_minute),
                   (SELECT count(*) FROM results WHERE ok)
            """)
        let numbers = counts.split(separator: "|").map { Int($0) }
        #expect(numbers[0] == sent)
        #expect(
            numbers[1] == sent && numbers[2] == sent && numbers[3] == sent,
            "rollups count every stored result once: \(counts)")
        #expect(numbers[4] == numbers[5], "latency histograms hold every successful result once: \(counts)")
        let agents = try await replicas[1].agents()
        #expect(agents.map(\.results).reduce(0, +) == sent)
        // Each write that committed counted its batch and queued its audit entry.
        let committed = agents.map(\.batches).reduce(0, +)
        #expect((2 * batches.count...2 * batches.count + unanswered).contains(committed))
        // Other tests' transactions on the same server can hold entries back for a moment.
        var chained = 0
        _ = await eventually(every: .milliseconds(50)) {
            chained += (try? await replicas[1].chainAudit()) ?? 0
            return chained >= committed
        }
        #expect(chained == committed, "every batch queued its entry")
        let audit = try await replicas[0].verifyAudit()
        #expect(audit.firstBroken == nil && audit.entries == committed, "one chain across replicas")
    }

    @Test func oneReplicaHoldsTheLeaseAndOneThatLostItCannotWrite() async throws {
        let url = try PostgresURL(try await PostgresServer.database())
        let (a, b) = (try await PostgresStore.forTests(url), try await PostgresStore.forTests(url))
        defer { for replica in [a, b] { Task { await replica.close() } } }
        let first = try #require(try await a.acquireLease(holder: "a", ttl: .seconds(600)))
        #expect(try await b.acquireLease(holder: "b", ttl: .seconds(600)) == nil, "held by a")
        #expect(try await a.acquireLease(holder: "a", ttl: .seconds(600)) == first, "a renews, same epoch")
        // a's last renewal runs out at once, as if it had stopped renewing; b takes over after it.
        #expect(try await a.acquireLease(holder: "a", ttl: .milliseconds(1)) == first)
        var taken: Lease?
        #expect(
            await eventually(every: .milliseconds(100)) {
                taken = try? await b.acquireLease(holder: "b", ttl: .seconds(600))
                return taken != nil
            })
        let second = try #require(taken)
        #expect(second.epoch == first.epoch + 1)
        #expect(try await a.acquireLease(holder: "a", ttl: .seconds(600)) == nil, "b holds it now")

        // a, paused through the takeover, tries to save what it evaluated: refused, nothing written.
        let alert = TrackedAlert(
            fingerprint: "f1", labels: ["alertname": "SondaDown"], summary: "down", description: "",
            state: .firing, activeSince: Date(), startsAt: Date())
        let evaluation = AlertEngine.Evaluation(
            round: AlertRound(at: Date(), firing: [], changed: [], reminders: []), updated: [alert], dropped: [],
            changes: [])
        await #expect(throws: LeaseLost.self) {
            try await a.saveAlerts(evaluation, cursor: 42, at: Date(), lease: first, notifications: [])
        }
        #expect(try await b.activeAlerts().isEmpty, "the fenced save wrote nothing")
        try await b.saveAlerts(evaluation, cursor: 42, at: Date(), lease: second, notifications: [])
        #expect(try await a.activeAlerts().map(\.fingerprint) == ["f1"])
    }

    @Test func compactionMergesAppendedRowsAndChangesNoAnswer() async throws {
        let url = try await PostgresServer.database()
        let store = try await PostgresStore.forTests(try PostgresURL(url))
        defer { Task { await store.close() } }
        let f = try StatusPageFixture.fixture()
        func rows(_ table: String) async throws -> Int {
            Int(try await PostgresServer.psql(url, "SELECT count(*) FROM \(table)")) ?? -1
        }
        func pending() async throws -> Int { try await rows("outcome_pending") + rows("latency_pending") }
        // Small batches, as agents send them: each appends its own minute rows, which every reader
        // sees at once; a roll-up between batches moves them on and appends hour and day rows.
        let all = StatusPageFixture.results(agent: "sp-clinic-01", region: "sao_paulo", now: f.now)
        var pendingAnswers: [String: String]?
        for start in stride(from: 0, to: all.count, by: 400) {
            try await store.write(
                f.batch(agent: "sp-clinic-01", results: Array(all[start..<min(start + 400, all.count)])),
                rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
            if start + 400 >= all.count {
                #expect(try await pending() > 0)
                pendingAnswers = try await StoreAnswers.of(store, fixture: f)
            }
            #expect(try await store.rollUpPending() > 0)
            #expect(try await pending() == 0)
        }
        let before = try await StoreAnswers.of(store, fixture: f)
        StoreAnswers.expectSame(try #require(pendingAnswers), before, "rows still pending, then rolled up")
        let dayRows = try await rows("latency_day")
        let outcomeDayRows = try await rows("outcome_day")
        let counted = try await PostgresServer.psql(url, "SELECT sum(count) FROM outcome_minute")
        let removed = try await store.compactRollups(now: f.now)
        #expect(removed > 0)
        #expect(try await rows("latency_day") < dayRows, "merged")
        #expect(try await rows("outcome_day") < outcomeDayRows, "merged")
        #expect(try await PostgresServer.psql(url, "SELECT sum(count) FROM outcome_minute") == counted)
        for span in ["minute", "hour", "day"] {
            let check = span == "minute" ? ", check_name" : ""
            for (table, key) in [
                ("latency_\(span)", "region, profile\(check), class"),
                ("outcome_\(span)", "region, profile, check_name, class, error_code"),
            ] {
                let duplicated = try await PostgresServer.psql(
                    url,
                    """
                    SELECT count(*) FROM (SELECT 1 FROM \(table)
                    WHERE \(span) < (SELECT max(\(span)) FROM \(table))
                    GROUP BY \(span), \(key) HAVING count(*) > 1) d
                    """)
                #expect(duplicated == "0", "\(table): one row per key for every finished bucket")
            }
        }
        let after = try await StoreAnswers.of(store, fixture: f)
        StoreAnswers.expectSame(before, after, "the compacted store")
    }

    @Test func retentionDropsWholeDaysOfResults() async throws {
        let store = try await Self.open()
        defer { Task { await store.close() } }
        let f = try IngestFixture()
        let old = (0..<3).map {
            IngestFixture.result(totalMilliseconds: 10, at: f.now.addingTimeInterval(-10 * 86_400 - Double($0)))
        }
        let new = [IngestFixture.result(totalMilliseconds: 10, at: f.now)]
        try await store.write(
            f.batch(results: old + new), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        let removed = try await store.prune(
            rawBefore: f.now.addingTimeInterval(-7 * 86_400), rollupsBefore: f.now.addingTimeInterval(-90 * 86_400))
        #expect(removed == 3)
        let left = try await store.results(check: "booking-slots", before: nil, limit: 10)
        #expect(left.count == 1)
        // A result for a dropped day is stored again if it comes back (its partition is recreated).
        let receipt = try await store.write(
            f.batch(results: [old[0]]), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        #expect(receipt.accepted == 1)
    }

    @Test func aWrongURLOrUnreachableServerIsOneClearError() async throws {
        #expect(throws: PostgresURLError.self) { try PostgresURL("postgres://127.0.0.1:5432/sonda") }
        #expect(throws: PostgresURLError.self) { try PostgresURL("postgres://sonda@127.0.0.1/sonda?sslmode=maybe") }
        let parsed = try PostgresURL("postgres://sonda:s3cret@db.clinic.lan/sonda?sslmode=verify-full")
        #expect(parsed.port == 5432 && parsed.password == "s3cret" && parsed.sslMode == "verify-full")
        #expect(!parsed.redacted.contains("s3cret"))
        let closed = try PostgresURL("postgres://sonda:s3cret@127.0.0.1:\(try refusedLoopbackPort())/sonda")
        let error = await #expect(throws: PostgresStoreError.self) { try await PostgresStore.open(closed) }
        let text = "\(error.map { $0 as Any } ?? "")"
        #expect(text.contains("cannot open the database postgres://sonda:***@127.0.0.1"), "\(text)")
        #expect(!text.contains("s3cret"))
        let server = try await PostgresServer.database()
        let missing = try PostgresURL(server.replacingOccurrences(of: "/t_", with: "/missing_"))
        let refused = await #expect(throws: PostgresStoreError.self) { try await PostgresStore.open(missing) }
        #expect("\(refused.map { $0 as Any } ?? "")".contains("does not exist"))
    }
}

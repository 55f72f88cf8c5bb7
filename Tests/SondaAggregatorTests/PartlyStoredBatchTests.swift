import Foundation
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// Batches that are not all new, written to both stores.
@Suite struct PartlyStoredBatchTests {
    /// A batch whose ids are partly stored already, partly new, and partly repeated within it:
    /// each store accepts each new id once, and its rollups, agent counts and audit entries count
    /// exactly those (PostgreSQL's insert answers the inserted ids only for such a batch).
    @Test func aBatchOfStoredNewAndRepeatedIdsCountsEachNewResultOnce() async throws {
        let f = try StatusPageFixture.fixture()
        let url = try await PostgresServer.database()
        let postgres = try await PostgresStore.forTests(try PostgresURL(url))
        defer { Task { await postgres.close() } }
        let agent = StatusPageFixture.agents[0]
        let results = Array(StatusPageFixture.results(agent: agent.id, region: agent.region, now: f.now).prefix(15))
        let first = f.batch(agent: agent.id, results: Array(results[0..<10]))
        // 5 stored, 5 new, of which one comes twice and another three times.
        let second = f.batch(
            agent: agent.id, results: Array(results[5..<15]) + [results[12], results[14], results[14]])
        for store in [f.store, postgres] as [any AggregatorStore] {
            let before = try await store.write(
                first, rawResults: nil, region: agent.region, now: f.now, auditDetail: "batch=first")
            #expect(before == BatchReceipt(accepted: 10, duplicates: 0))
            let receipt = try await store.write(
                second, rawResults: nil, region: agent.region, now: f.now, auditDetail: "batch=second")
            #expect(receipt == BatchReceipt(accepted: 5, duplicates: 8))
            let counted = try await store.agents().first { $0.id == agent.id }
            #expect(counted?.results == 15 && counted?.batches == 2)
        }
        #expect(try await PostgresServer.psql(url, PostgresServer.rollupsCountEveryResultOnce) == "t")
        let audited =
            "SELECT string_agg(detail, ',' ORDER BY detail) FROM (SELECT detail FROM audit UNION ALL SELECT detail FROM audit_queue) AS a"
        #expect(try await PostgresServer.psql(url, audited) == "batch=first accepted=10,batch=second accepted=5")
        try await f.store.flushRollups()
        StoreAnswers.expectSame(
            try await StoreAnswers.of(f.store, fixture: f), try await StoreAnswers.of(postgres, fixture: f),
            "PostgreSQL")
    }
}

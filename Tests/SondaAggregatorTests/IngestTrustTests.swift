import Foundation
import Hummingbird
import HummingbirdTesting
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// What a signed batch may claim, on both stores: an agent speaks only for itself and its
/// configured region, and a batch replayed inside the signature window changes nothing, on one
/// replica or several.
@Suite struct IngestTrustTests {
    enum Store: String, CaseIterable { case sqlite, postgres }

    static func store(_ kind: Store, _ f: IngestFixture) async throws -> any AggregatorStore {
        switch kind {
        case .sqlite: return f.store
        case .postgres: return try await PostgresStore.forTests(try PostgresURL(try await PostgresServer.database()))
        }
    }

    static func metrics(_ client: some TestClientProtocol) async throws -> String {
        String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
    }

    @Test(arguments: Store.allCases)
    func aReplayedBatchIsAnswered200AndCountsNothingTwice(_ kind: Store) async throws {
        let f = try IngestFixture()
        let store = try await Self.store(kind, f)
        let results = (0..<3).map {
            IngestFixture.result(totalMilliseconds: 100, at: f.now.addingTimeInterval(Double($0)))
        }
        let body = try f.body(f.batch(results: results, dropped: 7, quarantined: 5))
        let signature = try f.signature(for: body, agent: "sp-clinic-01")
        try await f.application(store: store).test(.router) { client in
            let first = try await client.post(body, signature: signature)
            #expect(String(buffer: first.body) == #"{"accepted":3,"duplicates":0}"#)
            let audited = try await store.verifyAudit().entries
            // The exact same signed body, then the same batch signed again (an agent that never saw the 200).
            let resigned = try f.signature(for: body, agent: "sp-clinic-01", at: f.now.addingTimeInterval(10))
            for header in [signature, resigned] {
                let again = try await client.post(body, signature: header)
                #expect(again.status == .ok)
                #expect(String(buffer: again.body) == #"{"accepted":0,"duplicates":3,"replayed":true}"#)
            }
            let sp = try #require(try await store.agents().first { $0.id == "sp-clinic-01" })
            #expect(sp.batches == 1 && sp.results == 3 && sp.dropped == 7 && sp.quarantined == 5, "\(sp)")
            #expect(abs(sp.lastSeen.timeIntervalSince(f.now)) < 0.002, "stored to the millisecond")
            #expect(try await store.verifyAudit().entries == audited, "a replay adds no audit entry")
            let metrics = try await Self.metrics(client)
            #expect(
                metrics.contains("sonda_ingest_batches_total 1\n") && metrics.contains("sonda_ingest_replays_total 2\n")
            )
        }
        // A replay is still a sign of life: an agent whose answers are lost keeps sending its batch,
        // and must not be paged as silent.
        var later = f
        later.now = f.now.addingTimeInterval(30)
        let resigned = try f.signature(for: body, agent: "sp-clinic-01", at: later.now)
        try await later.application(store: store).test(.router) { client in
            let again = try await client.post(body, signature: resigned)
            #expect(String(buffer: again.body).contains(#""replayed":true"#))
        }
        let sp = try #require(try await store.agents().first { $0.id == "sp-clinic-01" })
        #expect(abs(sp.lastSeen.timeIntervalSince(later.now)) < 0.002 && sp.batches == 1 && sp.dropped == 7, "\(sp)")
        // The id is remembered for the signature window after the latest signature, then forgotten.
        let window = f.config.signatureWindow.intervalSeconds
        #expect(try await store.pruneExpired(now: later.now.addingTimeInterval(window - 1)).batchIDs == 0)
        #expect(try await store.pruneExpired(now: later.now.addingTimeInterval(window + 1)).batchIDs == 1)
        await store.close()
    }

    @Test func twoReplicasGivenTheSameBatchAtOnceTakeItOnce() async throws {
        let f = try IngestFixture()
        let url = try PostgresURL(try await PostgresServer.database())
        let replicas = [try await PostgresStore.forTests(url), try await PostgresStore.forTests(url)]
        let results = (0..<2).map {
            IngestFixture.result(totalMilliseconds: 90, at: f.now.addingTimeInterval(Double($0)))
        }
        let body = try f.body(f.batch(results: results, dropped: 4))
        let signature = try f.signature(for: body, agent: "sp-clinic-01")
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for replica in replicas {
                group.addTask {
                    try await f.application(store: replica).test(.router) { client in
                        String(buffer: try await client.post(body, signature: signature).body)
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(
            answers.sorted() == [#"{"accepted":0,"duplicates":2,"replayed":true}"#, #"{"accepted":2,"duplicates":0}"#])
        let sp = try #require(try await replicas[1].agents().first { $0.id == "sp-clinic-01" })
        #expect(sp.batches == 1 && sp.dropped == 4)
        for replica in replicas { await replica.close() }
    }

    enum Claim: String, CaseIterable { case batchAgent, resultAgent, resultRegion }

    @Test(arguments: Claim.allCases)
    func aBatchSpeakingForAnotherAgentOrRegionIsRefusedAndCounted(_ claim: Claim) async throws {
        let f = try IngestFixture()
        var batch = f.batch(results: [IngestFixture.result(totalMilliseconds: 10, at: f.now)])
        switch claim {
        case .batchAgent: batch.agent = "rj-clinic-01"
        case .resultAgent: batch.results[0].agent = "rj-clinic-01"
        case .resultRegion: batch.results[0].region = "rio"
        }
        let body = try f.body(batch)
        let code = claim == .resultRegion ? "region_mismatch" : "agent_mismatch"
        try await f.application().test(.router) { client in
            let response = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(response.status == .badRequest && errorCode(response) == code, "\(String(buffer: response.body))")
            let message = String(buffer: response.body)
            #expect(
                message.contains(claim == .resultRegion ? "'rio'" : "'rj-clinic-01'")
                    && message.contains("'sp-clinic-01'"))
            #expect(try await Self.metrics(client).contains("sonda_ingest_rejected_total{code=\"\(code)\"} 1\n"))
        }
        #expect(try await f.store.agents().isEmpty, "nothing of the batch is stored")
    }

    @Test(arguments: Store.allCases)
    func resultsAreStoredUnderTheSigningAgentsConfiguredRegion(_ kind: Store) async throws {
        let f = try IngestFixture()
        let store = try await Self.store(kind, f)
        var unlabelled = IngestFixture.result(totalMilliseconds: 50, at: f.now)
        unlabelled.region = nil
        let body = try f.body(f.batch(results: [unlabelled]))
        // A writer that bypasses ingest's check cannot move a result to another region either.
        var claimed = IngestFixture.result(totalMilliseconds: 60, at: f.now)
        claimed.region = "elsewhere"
        try await store.write(
            f.batch(results: [claimed]), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        try await f.application(store: store).test(.router) { client in
            #expect(
                try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            let response = try await client.execute(uri: "/v1/budgets?window=1h", method: .get)
            let report = try JSONDecoder().decode(BudgetReport.self, from: Data(buffer: response.body))
            #expect(
                Set(report.cells.map(\.region)) == ["sao_paulo"] && report.cells.first?.count == 2, "\(report.cells)")
        }
        await store.close()
    }
}

import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import Testing

@Suite struct IngestTests {
    @Test func acceptedBatchIsStoredAndAnswered200AfterCommit() async throws {
        let f = try IngestFixture()
        let results = (0..<5).map { IngestFixture.result(totalMilliseconds: 100 + Double($0), at: f.now) }
        let body = try f.body(f.batch(results: results))
        try await f.application().test(.router) { client in
            let response = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"accepted":5,"duplicates":0}"#)
        }
        let stored = try await f.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") }
        #expect(stored == 5)
    }

    @Test func aRetriedResultKeepsItsFailedAttempts() async throws {
        let f = try IngestFixture()
        var failed = IngestFixture.result(
            totalMilliseconds: 5, error: ProbeError(.connectRefused, "refused"), at: f.now)
        failed.phases = PhaseTimings(connect: 5, total: 5)
        var result = IngestFixture.result(totalMilliseconds: 120, at: f.now.addingTimeInterval(0.5))
        result.attempts = [ProbeResult.FailedAttempt(failed)]
        let body = try f.body(f.batch(results: [result]))
        try await f.application().test(.router) { client in
            let response = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(response.status == .ok)
        }
        let json = try await f.store.pool.read { db in try String.fetchOne(db, sql: "SELECT json FROM results") }
        let stored = try ResultJSON.decoder().decode(ProbeResult.self, from: Data(try #require(json).utf8))
        #expect(stored.ok, "the run counts as the attempt that passed")
        #expect(stored.attempts?.first?.error?.code == .connectRefused)
    }

    @Test func duplicateResultIdsAreAcceptedAndIgnored() async throws {
        let f = try IngestFixture()
        let results = (0..<3).map {
            IngestFixture.result(totalMilliseconds: 50, at: f.now.addingTimeInterval(Double($0)))
        }
        let first = try f.body(f.batch(results: results))
        let again = try f.body(f.batch(results: results + [IngestFixture.result(totalMilliseconds: 60, at: f.now)]))
        try await f.application().test(.router) { client in
            _ = try await client.post(first, signature: try f.signature(for: first, agent: "sp-clinic-01"))
            let response = try await client.post(again, signature: try f.signature(for: again, agent: "sp-clinic-01"))
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"accepted":1,"duplicates":3}"#)
            let budgets = try await client.execute(uri: "/v1/budgets", method: .get)
            let report = try JSONDecoder().decode(BudgetReport.self, from: Data(buffer: budgets.body))
            #expect(report.cells.first?.count == 4, "rollups count each result once")
        }
    }

    enum Tamper: String, CaseIterable {
        case wrongKey, unknownAgent, noHeader, garbledHeader, staleTimestamp, futureTimestamp, bodyChanged
    }

    @Test(arguments: Tamper.allCases)
    func signatureAndReplayProblemsAreRefused(_ tamper: Tamper) async throws {
        let f = try IngestFixture()
        let body = try f.body(f.batch(results: [IngestFixture.result(totalMilliseconds: 10, at: f.now)]))
        var sent = body
        let header: String?
        switch tamper {
        case .wrongKey: header = try f.signature(for: body, agent: "sp-clinic-01", signer: "rj-clinic-01")
        case .unknownAgent:
            header = "keyid=ghost,t=\(Int(f.now.timeIntervalSince1970)),sig=" + String(repeating: "A", count: 86) + "=="
        case .noHeader: header = nil
        case .garbledHeader: header = "keyid=sp-clinic-01,t=soon,sig=???"
        case .staleTimestamp:
            header = try f.signature(for: body, agent: "sp-clinic-01", at: f.now.addingTimeInterval(-301))
        case .futureTimestamp:
            header = try f.signature(for: body, agent: "sp-clinic-01", at: f.now.addingTimeInterval(400))
        case .bodyChanged:
            header = try f.signature(for: body, agent: "sp-clinic-01")
            sent[sent.count - 2] ^= 1
        }
        let tampered = sent
        try await f.application().test(.router) { client in
            let response = try await client.post(tampered, signature: header)
            switch tamper {
            case .staleTimestamp, .futureTimestamp:
                #expect(response.status == .conflict)
                #expect(errorCode(response) == "replay")
            default:
                #expect(response.status == .unauthorized)
                #expect(errorCode(response) == "bad_signature")
            }
            // The other agent is unaffected.
            let rio = IngestFixture.result(totalMilliseconds: 9, at: f.now, agent: "rj-clinic-01", region: "rio")
            let good = try f.body(f.batch(agent: "rj-clinic-01", results: [rio]))
            let ok = try await client.post(good, signature: try f.signature(for: good, agent: "rj-clinic-01"))
            #expect(ok.status == .ok)
        }
    }

    @Test func oversizeBodyIs413() async throws {
        let f = try IngestFixture(maxBodyBytes: 4096)
        let results = (0..<40).map { IngestFixture.result(totalMilliseconds: Double($0), at: f.now) }
        let body = try f.body(f.batch(results: results))
        try await f.application().test(.router) { client in
            let response = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(response.status == .contentTooLarge)
            #expect(errorCode(response) == "too_large")
        }
    }

    @Test(arguments: [
        ("{not json", "body is not valid JSON"),
        (
            #"{"agent":"sp-clinic-01","batch_id":"b","sent_at":"2026-11-23T10:00:00Z","results":[]}"#,
            "$.heartbeat is missing"
        ),
        (
            #"{"agent":"sp-clinic-01","batch_id":"b","sent_at":"2026-11-23T10:00:00Z","results":[{"id":5}],"heartbeat":{"version":"1","config_hash":"x","spool_depth":0,"dropped":0}}"#,
            "$.results[0].id must be a string"
        ),
    ])
    func malformedBodiesAre400WithTheFieldNamed(_ text: String, _ message: String) async throws {
        let f = try IngestFixture()
        let body = Array(text.utf8)
        try await f.application().test(.router) { client in
            let response = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(response.status == .badRequest)
            #expect(errorCode(response) == "malformed")
            #expect(String(buffer: response.body).contains(message))
        }
    }

    @Test func heartbeatUpdatesTheAgentsList() async throws {
        let f = try IngestFixture()
        let body = try f.body(f.batch(results: [], dropped: 7))
        try await f.application().test(.router) { client in
            #expect(
                try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            let response = try await client.execute(uri: "/v1/agents", method: .get)
            let list = try JSONDecoder().decode(AgentStatus.List.self, from: Data(buffer: response.body))
            let sp = try #require(list.agents.first { $0.id == "sp-clinic-01" })
            #expect(sp.version == "0.1.0" && sp.spoolDepth == 3 && sp.dropped == 7 && sp.lastSeen != nil)
            #expect(list.agents.first { $0.id == "rj-clinic-01" }?.lastSeen == nil)
        }
    }

    /// Agents newer than this aggregator may add heartbeat fields (`quarantined`, or ones not
    /// invented yet): the batch is still accepted and the fields it knows are kept.
    @Test func heartbeatFieldsOfNewerAgentsAreAccepted() async throws {
        let f = try IngestFixture()
        let text =
            #"{"agent":"sp-clinic-01","batch_id":"b","sent_at":"2026-11-23T10:00:00Z","results":[],"#
            + #""heartbeat":{"version":"9.0.0","config_hash":"x","spool_depth":4,"dropped":2,"quarantined":3,"#
            + #""newer_field":{"nested":[1,{"a":null}],"s":"}"}}}"#
        let body = Array(text.utf8)
        #expect(try BatchReader.read(Data(body), maxResults: 10).batch.heartbeat.quarantined == 3)
        try await f.application().test(.router) { client in
            let response = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let agents = try await client.execute(uri: "/v1/agents", method: .get)
            let list = try JSONDecoder().decode(AgentStatus.List.self, from: Data(buffer: agents.body))
            let sp = try #require(list.agents.first { $0.id == "sp-clinic-01" })
            #expect(sp.version == "9.0.0" && sp.spoolDepth == 4 && sp.dropped == 2 && sp.quarantined == 3)
        }
    }
}

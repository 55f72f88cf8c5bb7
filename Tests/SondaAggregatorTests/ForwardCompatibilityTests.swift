import Foundation
import Hummingbird
import HummingbirdTesting
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// A newer agent's results: an error code, a key, a phase and a budget phase this version has no
/// name for are taken and kept, on both stores; what is not JSON of the right shape is still
/// refused with the place named.
@Suite struct ForwardCompatibilityTests {
    /// A result of this version rewritten as a newer agent might send it.
    static func future(_ result: ProbeResult) throws -> String {
        var text = String(decoding: try ResultJSON.encoder().encode(result), as: UTF8.self)
        for (from, to) in [
            (#""code":"timeout""#, #""code":"quantum_tunnel""#),
            (#""phases_ms":{"#, #""phases_ms":{"quic_handshake":12.5,"#),
            (#""budget":null"#, #""budget":{"limit_ms":250,"ok":false,"phase":"quic_handshake"}"#),
            (#""id":"#, #""quantum_state":{"entangled":true,"qubits":[0,1]},"id":"#),
        ] {
            precondition(text.contains(from), "\(from) in \(text)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    static func body(_ results: [String], _ batch: ResultBatch) throws -> [UInt8] {
        let frame = String(decoding: try ResultJSON.encoder().encode(batch), as: UTF8.self)
        precondition(batch.results.isEmpty && frame.contains(#""results":[]"#))
        return Array(
            frame.replacingOccurrences(of: #""results":[]"#, with: #""results":[\#(results.joined(separator: ","))]"#)
                .utf8)
    }

    static let batch = ResultBatch(
        agent: "sp-clinic-01", batchID: "b1", sentAt: Date(timeIntervalSince1970: 1_790_000_000), results: [],
        heartbeat: Heartbeat(version: "9.0.0", configHash: "abc", spoolDepth: 0, dropped: 0))

    static let failing = IngestFixture.result(
        check: "teleport", totalMilliseconds: 80, error: ProbeError(.timeout, "ran past 10s"),
        at: Date(timeIntervalSince1970: 1_790_000_000))

    @Test func theReaderKeepsWhatANewerAgentAdds() throws {
        let text = try Self.future(Self.failing)
        let read = try BatchReader.read(Data(try Self.body([text], Self.batch)), maxResults: 10)
        let result = try #require(read.batch.results.first)
        #expect(result.error?.code.rawValue == "quantum_tunnel" && result.error?.code.isKnown == false)
        #expect(result.error?.message == "ran past 10s" && !result.ok)
        #expect(result.phases == Self.failing.phases, "the unknown phase is left out of the timings")
        #expect(result.budget == nil, "a budget of an unknown phase is ignored")
        #expect(Array(read.rawResults) == [text], "stored as sent, unknown keys included")
        // JSONDecoder reads the kept text alike (SQLite folds rollups from it after a crash).
        #expect(try ResultJSON.decoder().decode(ProbeResult.self, from: Data(text.utf8)) == result)
    }

    /// Each broken copy of the newer agent's batch, and the refusal's message.
    static let refusals: [(from: String, to: String, message: String)] = [
        (#""code":"quantum_tunnel""#, #""code":7"#, "$.results[0].error.code must be a string"),
        (
            #""code":"quantum_tunnel""#, #""code":"Quantum Tunnel""#,
            "$.results[0].error.code must be a code of lowercase letters, digits and '_' (at most 64), "
                + "not 'Quantum Tunnel'"
        ),
        (
            #""code":"quantum_tunnel""#, #""code":"quantum_tunnel","code":"x""#,
            "body is not valid JSON: key 'code' appears twice"
        ),
        (#""message":"#, #""text":"#, "$.results[0].error.message is missing"),
        (#""phase":"quic_handshake""#, #""phase":null"#, "$.results[0].budget.phase must be a string, not null"),
        (#""limit_ms":250"#, #""limit_ms":"250""#, "$.results[0].budget.limit_ms must be a number"),
        (#""quic_handshake":12.5"#, #""quic_handshake":12.5.1"#, "body is not valid JSON: expected ',' or '}'"),
        (#""entangled":true"#, #""entangled":tru"#, "body is not valid JSON: unexpected character"),
        (#""ok":false,"phases_ms""#, #""ok":"false","phases_ms""#, "$.results[0].ok must be true or false"),
        (#""total":80"#, #""totals":80"#, "$.results[0].phases_ms.total is missing"),
    ]

    @Test(arguments: refusals)
    func syntaxIsStillRefused(_ refusal: (from: String, to: String, message: String)) throws {
        let text = try Self.future(Self.failing)
        #expect(text.contains(refusal.from))
        let broken = text.replacingOccurrences(of: refusal.from, with: refusal.to)
        #expect(throws: BatchReader.Failure.self) {
            do {
                _ = try BatchReader.read(Data(try Self.body([broken], Self.batch)), maxResults: 10)
            } catch let failure as BatchReader.Failure {
                #expect(failure.message.hasPrefix(refusal.message), "\(failure.message)")
                #expect(!failure.tooLarge)
                throw failure
            }
        }
    }

    /// Through the aggregator's router: stored as sent, counted as a failure in uptime and the
    /// outcome rollups, shown on the status page and handed to the alert rules with its code.
    @Test(arguments: IngestTrustTests.Store.allCases)
    func aNewerAgentsResultIsStoredCountedAndShown(_ kind: IngestTrustTests.Store) async throws {
        let f = try IngestFixture()
        let store = try await IngestTrustTests.store(kind, f)
        let passing = IngestFixture.result(check: "teleport", totalMilliseconds: 40, at: f.now.addingTimeInterval(-3))
        let texts =
            try [String(decoding: try ResultJSON.encoder().encode(passing), as: UTF8.self)]
            + [-2.0, -1].map { seconds in
                var failing = Self.failing
                (failing.id, failing.startedAt) = (UUIDv7.generate(), f.now.addingTimeInterval(seconds))
                return try Self.future(failing)
            }
        let body = try Self.body(texts, f.batch(results: []))
        try await f.application(store: store).test(.router) { client in
            let answer = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(answer.status == .ok && String(buffer: answer.body) == #"{"accepted":3,"duplicates":0}"#)
            try await store.flushRollups()

            let page = String(buffer: try await client.execute(uri: "/v1/checks/teleport/results", method: .get).body)
            #expect(page.hasSuffix(#""results":[\#(texts.reversed().joined(separator: ","))]}"#), "\(page)")
            let uptime = try JSONDecoder().decode(
                UptimeReport.self,
                from: Data(buffer: try await client.execute(uri: "/v1/uptime?window=1h", method: .get).body))
            #expect(uptime.checks.map { "\($0.check) \($0.total) \($0.failed)" } == ["teleport 3 2"])
            let html = String(buffer: try await client.execute(uri: "/checks/teleport", method: .get).body)
            #expect(html.contains("✕ quantum_tunnel × 2"), "the error codes from the outcome rollups")
            #expect(html.contains("✕ quantum_tunnel</span>") && html.contains("ran past 10s"), "the latest failures")
        }
        var events: [ResultEvent] = []
        _ = await eventually {
            events = (try? await store.resultEvents(after: 0, limit: 10).events) ?? []
            return events.count == 3
        }
        #expect(events.map { $0.errorCode ?? "ok" } == ["ok", "quantum_tunnel", "quantum_tunnel"])
        await store.close()
    }
}

import Foundation
import SondaCore
import TestSupport
import Testing

/// `sonda-agent run` against the real `sonda-aggregator serve` when the aggregator refuses a
/// batch: too large (413) goes again in halves; what it refuses for good (400, or 413 for one
/// result) is set aside in the spool's `quarantine/` and the agent goes on; a key it does not know
/// (401) is retried until the operator fixes it.
@Suite(.serialized) struct AgentQuarantineTests {
    static let aggregatorBinary = TLSLab.builtBinary("sonda-aggregator")

    /// A directory with an agent key, an aggregator file and an agent file (one quick check).
    final class Setup {
        let directory: String
        let publicKey: String

        init() async throws {
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent("sonda-refused-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: "\(directory)/spool", withIntermediateDirectories: true)
            let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "q1")
            publicKey = String(try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") }))
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func startAggregator(publicKey: String? = nil, limits: String = "{}")
            async throws
            -> (BackgroundProcess, String)
        {
            try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            agents:
              - {id: q1, region: sao_paulo, public_key: "\(publicKey ?? self.publicKey)"}
            limits: \(limits)
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: "\(directory)/aggregator.port")
            let aggregator = try BackgroundProcess(
                aggregatorBinary,
                ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/aggregator.port"])
            let port = try await aggregator.port(writtenTo: "\(directory)/aggregator.port")
            return (aggregator, "http://127.0.0.1:\(port)")
        }

        func startAgent(reportingTo server: String) throws -> BackgroundProcess {
            let lab = try TLSLab.shared()
            try """
            agent: {id: q1, region: sao_paulo}
            aggregator: {urls: ["\(server)"], key: agent.key}
            spool: spool
            batch: {max_results: 50, max_age: 500ms}
            profiles: [none]
            checks:
              - {name: health, class: authentication, interval: 300ms, timeout: 250ms, http: {url: "\(lab.url("http", "/"))"}}
            """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
            return try BackgroundProcess(
                AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        }

        /// A sealed batch file in the spool, as an agent that stopped left it: one result per line.
        func plant(_ stem: String, _ lines: [String]) throws {
            try (lines.joined(separator: "\n") + "\n").write(
                toFile: "\(directory)/spool/\(stem).jsonl", atomically: true, encoding: .utf8)
        }

        /// The ids of a check's results the aggregator holds.
        func stored(_ check: String, in server: String) async -> [String] {
            let run = try? await ChildProcess.run(
                "/usr/bin/curl", ["-s", "\(server)/v1/checks/\(check)/results?limit=500"])
            let page = (try? JSONSerialization.jsonObject(with: Data((run?.stdout ?? "").utf8))) as? [String: Any]
            return (page?["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }

        var quarantined: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/spool/quarantine")) ?? []).sorted()
        }

        var spooled: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/spool")) ?? [])
                .filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".open") }
        }
    }

    static func line(_ id: String, check: String = "planted-ok", message: String? = nil) -> String {
        var writer = ResultJSONWriter()
        let result = ProbeResult(
            id: id, check: check, agent: "q1", region: "sao_paulo", profile: "none", endpointClass: "reporting",
            startedAt: Date(), error: message.map { ProbeError(.internal, $0) },
            phases: PhaseTimings(dns: 1, connect: 1, tls: 0, send: 1, wait: 5, receive: 1, total: 9),
            http: HTTPInfo(
                status: 200, version: "1.1", redirects: 0, redirectMilliseconds: 0, bodyBytes: 10, remoteIP: nil))
        return String(decoding: writer.line(result).dropLast(), as: UTF8.self)
    }

    static func metric(_ name: String, of agent: BackgroundProcess) async -> Double? {
        let port = (try? await agent.agentListenPort()) ?? 0
        let run = try? await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"])
        let line = (run?.stdout ?? "").split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func refusedBatchesAreSplitOrSetAsideAndTheAgentGoesOn() async throws {
        let setup = try await Setup()
        // At most 3 results and 8 KiB a batch.
        let (aggregator, server) = try await setup.startAggregator(limits: "{max_results: 3, max_body_bytes: 8192}")
        // Eight results: 413, then halves of four (413), then pairs, all taken.
        let a = (1...8).map { "a-\($0)" }
        try setup.plant("00000000000000000001-00000000000000a1", a.map { Self.line($0) })
        // Three small results and one of 12 kB: 413 for the body; the big one alone is still too large.
        let b = (1...3).map { "b-\($0)" }
        try setup.plant(
            "00000000000000000002-00000000000000b2",
            b.map { Self.line($0) } + [
                Self.line("b-big", check: "planted-big", message: String(repeating: "x", count: 12_000))
            ])
        // A line that is JSON but not a result: 400 for the whole batch.
        let c = [Self.line("c-1"), #"{"id":"c-bad","check":"planted-bad"}"#]
        try setup.plant("00000000000000000003-00000000000000c3", c)

        let agent = try setup.startAgent(reportingTo: server)
        // Until the planted batches are settled and live results arrive after them.
        let settled = await eventually(every: .milliseconds(500)) {
            let ok = await setup.stored("planted-ok", in: server)
            let live = await setup.stored("health", in: server)
            return (Set(ok) == Set(a + b) && live.count >= 3 && setup.quarantined.count == 4) || agent.exitStatus != nil
        }
        let results = await Self.metric("sonda_quarantined_results_total", of: agent)
        let batches = await Self.metric("sonda_quarantined_batches_total", of: agent)
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        #expect(settled, "\(agent.log)\n\(setup.quarantined)")
        #expect(
            Set(await setup.stored("planted-ok", in: server)) == Set(a + b), "every result the aggregator takes arrived"
        )
        #expect(await setup.stored("planted-big", in: server).isEmpty)
        #expect(results == 3 && batches == 2, "/metrics counts them")
        #expect(setup.spooled.isEmpty, "nothing is left waiting in the spool: \(setup.spooled)")

        let stemB = "00000000000000000002-00000000000000b2"
        let stemC = "00000000000000000003-00000000000000c3"
        #expect(
            setup.quarantined == [stemB + ".error.json", stemB + ".jsonl", stemC + ".error.json", stemC + ".jsonl"])
        let keptB = try String(contentsOfFile: "\(setup.directory)/spool/quarantine/\(stemB).jsonl", encoding: .utf8)
        #expect(keptB.split(separator: "\n").count == 1 && keptB.contains(#""id":"b-big""#), "only the refused result")
        let keptC = try String(contentsOfFile: "\(setup.directory)/spool/quarantine/\(stemC).jsonl", encoding: .utf8)
        #expect(keptC == c.joined(separator: "\n") + "\n", "the refused batch file as it was")
        let whyC = try String(
            contentsOfFile: "\(setup.directory)/spool/quarantine/\(stemC).error.json", encoding: .utf8)
        #expect(whyC.contains(#""code":"malformed""#) && whyC.contains("$.results[1]"), "\(whyC)")

        let logged = agent.log.split(separator: "\n").filter { $0.contains("for good") }
        #expect(logged.count == 2, "each refused batch is logged once: \(agent.log)")
        #expect(
            logged.contains {
                $0.contains(stemB) && $0.contains("HTTP 413 too_large") && $0.contains("over the limit of 8192")
            })
        #expect(
            logged.contains { $0.contains(stemC) && $0.contains("HTTP 400 malformed") && $0.contains("$.results[1]") })
        #expect(agent.log.contains("sending it in halves"), "\(agent.log)")
        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "\(aggregator.log)")
    }

    /// A result from a newer agent version (a code and keys this aggregator does not know) is no
    /// reason to refuse: it is stored as sent, nothing is set aside.
    @Test func aNewerAgentsResultsAreTakenNotSetAside() async throws {
        let setup = try await Setup()
        let (aggregator, server) = try await setup.startAggregator()
        let planted = [true, false].map { NewerAgentTests.result(at: Date(), failing: $0, agent: "q1") }
        try setup.plant("00000000000000000001-00000000000000e1", planted)
        let agent = try setup.startAgent(reportingTo: server)
        let delivered = await eventually {
            let (planted, live) = (await setup.stored("teleport", in: server), await setup.stored("health", in: server))
            return planted.count == 2 && !live.isEmpty
        }
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        #expect(delivered && setup.quarantined.isEmpty, "\(agent.log)\n\(setup.quarantined)")
        let page = try await ChildProcess.run("/usr/bin/curl", ["-s", "\(server)/v1/checks/teleport/results"])
        #expect(planted.allSatisfy { page.stdout.contains($0) }, "stored as sent: \(page.stdout)")
        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "\(aggregator.log)")
    }

    /// 401 is not the batch's fault: the agent keeps its results and retries until the aggregator
    /// knows its key.
    @Test func aKeyTheAggregatorDoesNotKnowIsRetriedUntilTheOperatorFixesIt() async throws {
        let setup = try await Setup()
        let other = try await AgentCLI.run("keygen", "--out", "\(setup.directory)/other.key", "--id", "q1")
        let otherKey = String(try #require(other.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") }))
        var (aggregator, server) = try await setup.startAggregator(publicKey: otherKey)
        let planted = (1...3).map { "k-\($0)" }
        try setup.plant("00000000000000000001-00000000000000d1", planted.map { Self.line($0) })
        let first = try setup.startAgent(reportingTo: server)
        let refused = await eventually {
            first.log.components(separatedBy: "HTTP 401").count > 3 || first.exitStatus != nil
        }
        first.signal(SIGTERM)
        #expect(await first.wait() == 0, "\(first.log)")
        #expect(refused, "the agent retried: \(first.log)")
        #expect(setup.quarantined.isEmpty, "nothing was set aside")
        #expect(setup.spooled.contains("00000000000000000001-00000000000000d1.jsonl"), "\(setup.spooled)")

        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "\(aggregator.log)")
        (aggregator, server) = try await setup.startAggregator()
        let second = try setup.startAgent(reportingTo: server)
        let delivered = await eventually { Set(await setup.stored("planted-ok", in: server)) == Set(planted) }
        second.signal(SIGTERM)
        #expect(await second.wait() == 0, "\(second.log)")
        #expect(delivered, "\(second.log)")
        aggregator.signal(SIGTERM)
        _ = await aggregator.wait()
    }
}

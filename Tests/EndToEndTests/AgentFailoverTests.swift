import Foundation
import TestSupport
import Testing

/// `sonda-agent run` with several aggregator URLs: when the first is down, every result reaches
/// the next, with no load balancer in between, and the agent says once which one it left.
@Suite struct AgentFailoverTests {
    enum FirstAggregator: String, CaseIterable, CustomTestStringConvertible {
        case closedPort = "a closed port"
        case answers503 = "answering 503"
        var testDescription: String { rawValue }
    }

    @Test(arguments: FirstAggregator.allCases)
    func everyResultReachesTheSecondAggregatorWhenTheFirstIsDown(_ first: FirstAggregator) async throws {
        let lab = try TLSLab.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sonda-failover-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "f1")
        let publicKey = String(try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") }))
        let second = try await TestReceiver(agent: "f1", publicKey: publicKey, directory: directory, name: "second")
        var down: TestReceiver?
        let firstURL: String
        switch first {
        case .closedPort:
            firstURL = "http://127.0.0.1:\(try refusedLoopbackPort())"
        case .answers503:
            down = try await TestReceiver(
                agent: "f1", publicKey: publicKey, directory: directory, name: "first", downFor: 1e9)
            firstURL = down!.url
        }
        try """
        agent: {id: f1, region: sao_paulo}
        aggregator:
          urls: ["\(firstURL)", "\(second.url)"]
          key: agent.key
        spool: spool
        batch: {max_results: 50, max_age: 300ms}
        profiles: [none]
        checks:
          - {name: health, class: authentication, interval: 200ms, timeout: 150ms, http: {url: "\(lab.url("http", "/"))"}}
        """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try BackgroundProcess(
            AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        // Until several batches have gone to the second aggregator.
        let delivered = await eventually { second.batches.count >= 5 || agent.exitStatus != nil }
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        #expect(delivered && second.batches.count >= 5, "\(agent.log)")

        let spooled = ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/spool")) ?? [])
            .filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".open") }
        #expect(spooled.isEmpty, "every result reached the second aggregator, none is left: \(spooled)")
        let ids = second.resultIDs
        #expect(ids.count >= 5 && Set(ids).count == ids.count, "each result once")
        #expect(down?.batches.isEmpty ?? true)
        let failovers = agent.log.split(separator: "\n").filter { $0.contains("from now on") }
        #expect(failovers.count == 1, "one line for the change, not one per batch: \(agent.log)")
        #expect(
            failovers.first?.contains("aggregator \(firstURL) failed (") == true
                && failovers.first?.contains("reporting to \(second.url) from now on") == true, "\(failovers)")
        if first == .answers503 { #expect(failovers.first?.contains("HTTP 503") == true, "\(failovers)") }
        #expect(!agent.log.contains("retrying in"), "the second answered each time: no backoff\n\(agent.log)")
    }
}

import Foundation
import TestSupport
import Testing

/// `tls:` in aggregator.yaml: the aggregator serves HTTPS with the lab's certificate, the agent
/// reports to it trusting the lab CA, and the CLI reads it with `--cacert`.
@Suite(.serialized) struct AggregatorTLSTests {
    @Test func agentAndCLITalkToAnHTTPSAggregator() async throws {
        let lab = try TLSLab.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "tls-sp")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            tls: {cert: \(lab.dir)/pki/good-chain.pem, key: \(lab.dir)/pki/good.key}
            agents:
              - {id: tls-sp, region: sao_paulo, public_key: "\(publicKey)"}
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let validate = try await AggregatorEndToEndTests.cli("validate", "\(directory)/aggregator.yaml")
        #expect(validate.status == 0 && validate.stdout.contains("HTTPS"), "\(validate.stdout)\(validate.stderr)")

        let aggregator = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"])
        defer { aggregator.signal(SIGTERM) }
        let port = try await aggregator.port(writtenTo: "\(directory)/port")
        let server = "https://localhost:\(port)"
        #expect(aggregator.log.contains("listening on https://"), "\(aggregator.log)")

        try """
            agent: {id: tls-sp, region: sao_paulo}
            aggregator: {url: "\(server)", key: agent.key}
            spool: spool
            batch: {max_results: 10, max_age: 200ms}
            profiles: [none]
            checks:
              - {name: health, class: authentication, interval: 300ms, timeout: 300ms, http: {url: "\(lab.url("tls13", "/api/health"))"}, tls: {ca_file: \(lab.ca)}}
            """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try BackgroundProcess(
            AgentCLI.binary,
            ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0", "--aggregator-ca-file", lab.ca])
        func listAgents() async throws -> ChildProcess.Output {
            try await AggregatorEndToEndTests.cli("agents", "--server", server, "--cacert", lab.ca, "--json")
        }
        // Until the agent's first results are in over HTTPS (a batch goes every 200 ms).
        _ = await eventually(every: .milliseconds(500)) {
            guard let listed = try? await listAgents() else { return false }
            return listed.stdout.contains(#""id":"tls-sp""#) && !listed.stdout.contains(#""results":0"#)
        }
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")

        let agents = try await listAgents()
        #expect(agents.status == 0, "\(agents.stderr)")
        #expect(agents.stdout.contains(#""id":"tls-sp""#) && !agents.stdout.contains(#""results":0"#), "\(agents.stdout)")

        let untrusted = try await AggregatorEndToEndTests.cli("agents", "--server", server)
        #expect(untrusted.status == 69, "the system store does not know the lab CA: \(untrusted.stderr)")
        let plain = try await ChildProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://localhost:\(port)/health"])
        #expect(plain.stdout != "200", "plain HTTP is not served on the TLS port")
    }

    @Test func unreadableCertificateFilesAreConfigErrors() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "listen: 127.0.0.1:0\ntls: {cert: missing.pem}\n".write(
            toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let run = try await AggregatorEndToEndTests.cli("validate", "\(directory)/aggregator.yaml")
        #expect(run.status == 78)
        #expect(run.stderr.contains("aggregator.yaml:2:13: error: cannot read cert file 'missing.pem'"), "\(run.stderr)")
        #expect(run.stderr.contains("'key' is missing") || run.stderr.contains("key"), "\(run.stderr)")
    }
}

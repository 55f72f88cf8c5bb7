import Foundation
import TestSupport
import Testing

/// The real `sonda-agent run` reporting signed batches to the real `sonda-aggregator serve`, then
/// the aggregator's CLI showing the budget table.
@Suite(.serialized) struct AggregatorEndToEndTests {
    static let aggregatorBinary = TLSLab.builtBinary("sonda-aggregator")

    static func cli(_ arguments: String...) async throws -> ChildProcess.Output {
        try await ChildProcess.run(aggregatorBinary, arguments)
    }

    @Test func validatePrintsEveryProblemLikeACompilerAndExits78() async throws {
        let bad = TLSLab.packageRoot.appendingPathComponent("Tests/Fixtures/aggregator/bad.yaml").path
        let run = try await Self.cli("validate", bad)
        #expect(run.status == 78)
        #expect(run.stderr.contains("bad.yaml:2:1: error: unknown key 'databse' in an aggregator file (did you mean 'database'?)"), "\(run.stderr)")
        #expect(run.stderr.hasSuffix("\n9 errors\n"), "\(run.stderr)")
        let bad2 = try await Self.cli("budgets", "--server", "http://127.0.0.1:1")
        #expect(bad2.status == 69, "an unreachable server is EX_UNAVAILABLE: \(bad2.stderr)")
    }

    @Test func agentReportsAndTheBudgetTableShowsTheCells() async throws {
        let lab = try TLSLab.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "e2e-sp")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            agents:
              - {id: e2e-sp, region: sao_paulo, site: lab, public_key: "\(publicKey)"}
            budgets:
              - {class: authentication, phase: total, quantile: p95, limit: 1s}
              - {class: reporting, phase: total, quantile: p95, limit: 200ms}
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let validate = try await Self.cli("validate", "\(directory)/aggregator.yaml")
        #expect(validate.status == 0, "\(validate.stderr)")

        let aggregator = try BackgroundProcess(
            Self.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/aggregator.port"])
        let server = "http://127.0.0.1:\(try await aggregator.port(writtenTo: "\(directory)/aggregator.port"))"

        try """
            agent: {id: e2e-sp, region: sao_paulo}
            aggregator: {url: "\(server)", key: agent.key}
            spool: spool
            batch: {max_results: 50, max_age: 300ms}
            profiles: [none]
            checks:
              - {name: health, class: authentication, interval: 300ms, timeout: 300ms, http: {url: "\(lab.url("tls13", "/api/health"))"}, tls: {ca_file: \(lab.ca)}}
              - {name: slow, class: reporting, interval: 500ms, timeout: 500ms, http: {url: "\(lab.url("tls13", "/delay/300"))"}, tls: {ca_file: \(lab.ca)}}
            """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try BackgroundProcess(AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        // Until the aggregator holds at least two results of each check (a batch goes every 300 ms).
        let reported = await eventually(every: .milliseconds(500)) {
            guard let run = try? await Self.cli("budgets", "--server", server, "--window", "1h", "--json"),
                let report = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                let cells = report["cells"] as? [[String: Any]]
            else { return false }
            let counted = cells.filter { ($0["count"] as? Int ?? 0) >= 2 }.compactMap { $0["class"] as? String }
            return Set(counted) == ["authentication", "reporting"]
        }
        #expect(reported, "both checks' results reached the aggregator: \(agent.log)")
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")

        let json = try await Self.cli("budgets", "--server", server, "--window", "1h", "--json")
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let cells = try #require(report?["cells"] as? [[String: Any]], "\(json.stdout)")
        let states: [String: String] = Dictionary(
            uniqueKeysWithValues: cells.map { ($0["class"] as? String ?? "", $0["state"] as? String ?? "") })
        #expect(states == ["authentication": "ok", "reporting": "violated"], "\(json.stdout)\n\(aggregator.log)")
        #expect(cells.allSatisfy { ($0["count"] as? Int ?? 0) >= 2 && $0["region"] as? String == "sao_paulo" })

        let table = try await Self.cli("budgets", "--server", server)
        #expect(table.lines.first == "window 1h")
        #expect(table.lines.dropFirst().first?.hasPrefix("region     profile  class           phase  count") == true, "\(table.stdout)")
        #expect(table.stdout.contains("p95 ≤ 200.0 ms  violated"), "\(table.stdout)")

        let uptime = try await Self.cli("uptime", "--server", server)
        #expect(uptime.lines.dropFirst().first?.hasPrefix("check   region     total  failed  availability") == true, "\(uptime.stdout)")
        #expect(uptime.lines.contains { $0.hasPrefix("health  sao_paulo") }, "\(uptime.stdout)")

        let agents = try await Self.cli("agents", "--server", server, "--json")
        #expect(agents.stdout.contains(#""id":"e2e-sp","last_seen":"20"#), "the heartbeat arrived: \(agents.stdout)")

        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "\(aggregator.log)")
        let audit = try await Self.cli("audit", "verify", "--database", "\(directory)/sonda.sqlite")
        #expect(audit.status == 0 && audit.stdout.hasPrefix("audit chain intact"), "\(audit.stdout)\(audit.stderr)")
    }
}

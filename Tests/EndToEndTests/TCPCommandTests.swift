import Foundation
import TestSupport
import Testing

/// `sonda-agent probe tcp://` and tcp checks in the daemon, with the built binaries: the JSON
/// against docs/schema, usage errors, and results the real aggregator stores and counts.
@Suite struct TCPCommandTests {
    static let block = #"\x0bMSH|^~\&|SONDA|CLINIC|||20261205||ADT^A01|1|P|2.5\r\x1c\r"#

    @Test func probeTCPPrintsResultsTheSchemaAccepts() async throws {
        let (lab, lines) = (try TLSLab.shared(), try LineServerLab.shared())
        let directory = try ContractSchemaTests.temporaryDirectory("sonda-schema-tcp")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runs: [(arguments: [String], status: Int32)] = [
            (["tcp://localhost:\(lines.mllp)", "--send", Self.block, "--expect", #"MSA|AA|1\r\x1c"#], 0),
            (["tcp://localhost:\(lines.tlsBanner)", "--tls", "--ca-file", lab.ca, "--expect", "220 "], 0),
            (["tcp://127.0.0.1:\(lines.wrong)", "--expect", "220"], 1),
            (["tcp://127.0.0.1:\(lines.silent)", "--send", #"PING\r\n"#, "--expect", "PONG", "--timeout", "500ms"], 1),
            (["tcp://127.0.0.1:\(try refusedLoopbackPort())", "--expect", "220"], 1),
        ]
        var results: [String] = []
        for run in runs {
            let output = try await AgentCLI.run(["probe"] + run.arguments + ["--json"])
            #expect(output.status == run.status, "\(run.arguments): \(output.stdout)\(output.stderr)")
            results += output.lines
        }
        try (results.joined(separator: "\n") + "\n").write(
            toFile: "\(directory)/results.jsonl", atomically: true, encoding: .utf8)
        let check = try await ContractSchemaTests.validate(
            "result.schema.json", ["\(directory)/results.jsonl"], lines: true)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let objects = results.map(ContractSchemaTests.object)
        let codes = objects.map { ($0["error"] as? [String: Any])?["code"] as? String }
        #expect(codes == [nil, nil, "tcp_expect", "timeout", "connect_refused"], "\(results)")
        let phases = objects.map { Set(($0["phases_ms"] as? [String: Any] ?? [:]).keys) }
        #expect(phases[0] == ["dns", "connect", "tls", "send", "wait", "receive", "total"])
        #expect(phases[3] == ["dns", "connect", "tls", "send", "wait", "total"], "a silent server fails in wait")
        #expect(((objects[1]["tls"] as? [String: Any])?["version"] as? String)?.hasPrefix("TLSv1.") == true)
        #expect(objects[0]["http"] is NSNull && objects[0]["tls"] is NSNull)
        let expectation = (objects[2]["assertions"] as? [[String: Any]])?.first
        #expect(expectation?["name"] as? String == "expect" && expectation?["actual"] as? String == #"500 go away\r\n"#)
    }

    @Test func theWaterfallShowsTheExchange() async throws {
        let lines = try LineServerLab.shared()
        let run = try await AgentCLI.run("probe", "tcp://localhost:\(lines.banner)", "--expect", "220")
        #expect(run.status == 0, "\(run.stderr)")
        for phase in ["connect", "send", "wait", "receive"] { #expect(run.stdout.contains(phase), "\(run.stdout)") }
    }

    @Test(arguments: [
        (["tcp://localhost"], "needs a port"),
        (["tcp://[::1:25"], "brackets"),
        (["tcp://localhost:25", "--send", #"A\x4"#], #"--send: '\x' needs two hex digits"#),
        (["tcp://localhost:25", "--expect", ""], "--expect must not be empty"),
        (["https://localhost/", "--send", "x"], "go with a tcp://host:port URL"),
    ])
    func badArgumentsAreUsageErrors(_ arguments: [String], _ message: String) async throws {
        let run = try await AgentCLI.run(["probe"] + arguments)
        #expect(run.status == 64, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    /// A daemon with tcp checks reports to the real aggregator, which stores them under their
    /// `custom:` classes, counts the failing one, and rolls up the exchange's phases.
    @Test func theAggregatorStoresAndCountsTCPResults() async throws {
        let lines = try LineServerLab.shared()
        let directory = try ContractSchemaTests.temporaryDirectory("sonda-tcp-daemon")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "tcp-sp")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
        listen: 127.0.0.1:0
        database: sonda.sqlite
        agents:
          - {id: tcp-sp, region: sao_paulo, site: lab, public_key: "\(publicKey)"}
        budgets:
          - {class: "custom:smtp", phase: wait, quantile: p95, limit: 5s}
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let aggregator = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/aggregator.port"])
        defer { aggregator.signal(SIGTERM) }
        let server = "http://127.0.0.1:\(try await aggregator.port(writtenTo: "\(directory)/aggregator.port"))"
        try """
        agent: {id: tcp-sp, region: sao_paulo}
        aggregator: {url: "\(server)", key: agent.key}
        spool: spool
        batch: {max_results: 50, max_age: 300ms}
        profiles: [none]
        checks:
          - {name: smtp, class: "custom:smtp", interval: 300ms, timeout: 300ms, tcp: {address: "127.0.0.1:\(lines.banner)", expect: "220 "}}
          - name: hl7-feed
            class: custom:hl7
            interval: 300ms
            timeout: 300ms
            tcp: {address: "127.0.0.1:\(lines.wrong)", send: '\(Self.block)', expect: 'MSA|AA'}
        """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let validate = try await AgentCLI.run("validate", "\(directory)/agent.yaml")
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let agent = try BackgroundProcess(
            AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        let counted = await eventually(every: .milliseconds(500)) {
            guard let run = try? await AggregatorEndToEndTests.cli("uptime", "--server", server) else { return false }
            return run.lines.contains { $0.hasPrefix("hl7-feed") } && run.lines.contains { $0.hasPrefix("smtp ") }
        }
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        #expect(counted, "both checks reached the aggregator: \(agent.log)\n\(aggregator.log)")
        let uptime = try await AggregatorEndToEndTests.cli("uptime", "--server", server)
        let hl7 = try #require(uptime.lines.first { $0.hasPrefix("hl7-feed") }, "\(uptime.stdout)")
        #expect(hl7.contains(" 0.000%"), "every hl7 probe failed (tcp_expect): \(uptime.stdout)")
        #expect(uptime.lines.contains { $0.hasPrefix("smtp ") && $0.contains("100.000%") }, "\(uptime.stdout)")
        let budgets = try await AggregatorEndToEndTests.cli("budgets", "--server", server, "--window", "1h", "--json")
        let report = try JSONSerialization.jsonObject(with: Data(budgets.stdout.utf8)) as? [String: Any]
        let cell = (report?["cells"] as? [[String: Any]])?.first { $0["class"] as? String == "custom:smtp" }
        #expect(cell?["state"] as? String == "ok" && (cell?["count"] as? Int ?? 0) >= 1, "\(budgets.stdout)")
    }
}

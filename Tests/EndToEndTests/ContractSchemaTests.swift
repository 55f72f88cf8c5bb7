import Foundation
import TestSupport
import Testing

/// docs/contract.md's JSON Schemas (docs/schema) against real output: what `sonda-agent probe
/// --json` prints, the batches `sonda-agent run` sends, and what the real aggregator answers to
/// them. Validated by python3-jsonschema (draft 2020-12), through Tests/Support/validate-json.py.
@Suite struct ContractSchemaTests {
    static let schemas = TLSLab.packageRoot.appendingPathComponent("docs/schema").path

    /// Runs the validator on `files` (JSON Lines with `lines`); its exit status and what it printed.
    static func validate(_ schema: String, _ files: [String], lines: Bool = false) async throws -> ChildProcess.Output {
        let script = TLSLab.packageRoot.appendingPathComponent("Tests/Support/validate-json.py").path
        return try await ChildProcess.run(
            "/usr/bin/env", ["python3", script] + (lines ? ["--lines"] : []) + ["\(schemas)/\(schema)"] + files)
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    static func object(_ line: some StringProtocol) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
    }

    @Test func probeJSONMatchesTheResultSchema() async throws {
        let lab = try TLSLab.shared()
        let proxies = try ProxyLab.shared()
        let directory = try Self.temporaryDirectory("sonda-schema-probe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let root = TLSLab.packageRoot.path
        try """
        agent: {id: schema-sp, region: sao_paulo}
        include: [\(root)/probes/checks/*.yaml]
        ca_file: \(lab.ca)
        """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        // Success, a refused TLS version, plain HTTP, a handshake alone, nothing listening, an
        // expired chain, a budget, and a configured flow with its steps and assertions.
        let runs: [[String]] = [
            [lab.url("tls13", "/api/slots/public"), "--ca-file", lab.ca, "--budget", "10s"],
            [lab.url("tls12", "/api/health"), "--ca-file", lab.ca],
            [lab.url("http", "/json"), "--expect-status", "201"],
            ["tls://localhost:\(lab.port("tls13"))", "--ca-file", lab.ca],
            ["https://localhost:\(try refusedLoopbackPort())/", "--ca-file", lab.ca],
            [lab.url("expired", "/"), "--ca-file", lab.ca],
            ["--check", "booking-flow", "--config", "\(directory)/agent.yaml"],
            // Through a proxy: the `proxy` phase and object; a proxy refusing the CONNECT.
            [lab.url("tls13", "/api/health"), "--ca-file", lab.ca, "--proxy", ProxyLab.url("http", port: proxies.open)],
            [lab.url("tls13", "/"), "--ca-file", lab.ca, "--proxy", ProxyLab.url("http", port: proxies.refusing)],
            // A tcp check whose reply does not match (TCPCommandTests covers the rest of tcp://).
            ["tcp://127.0.0.1:\(try LineServerLab.shared().wrong)", "--expect", "220"],
        ]
        var lines: [String] = []
        for arguments in runs {
            let run = try await ChildProcess.run(
                AgentCLI.binary, ["probe"] + arguments + ["--json"],
                environment: ["CLINIC_API": "https://localhost:\(lab.port("tls13"))"])
            #expect([0, 1].contains(run.status), "\(arguments): \(run.stderr)")
            #expect(!run.lines.isEmpty, "\(arguments) printed a result")
            lines += run.lines
        }
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: "\(directory)/results.jsonl", atomically: true, encoding: .utf8)
        let check = try await Self.validate("result.schema.json", ["\(directory)/results.jsonl"], lines: true)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        // The runs covered what the schema describes, so the validation above checked it.
        let results = lines.map(Self.object)
        let codes = Set(results.compactMap { ($0["error"] as? [String: Any])?["code"] as? String })
        #expect(
            codes.isSuperset(of: [
                "tls_version", "http_status", "connect_refused", "tls_expired", "proxy_refused", "tcp_expect",
            ]),
            "\(codes)")
        let proxied = results.first { $0["proxy"] is [String: Any] && $0["ok"] as? Bool == true }
        #expect((proxied?["phases_ms"] as? [String: Any])?["proxy"] is Double, "\(String(describing: proxied))")
        #expect((proxied?["http"] as? [String: Any])?["remote_ip"] == nil)
        #expect(results.contains { ($0["tls"] as? [String: Any])?["leaf"] != nil && $0["http"] is [String: Any] })
        #expect(results.contains { $0["budget"] is [String: Any] })
        #expect(results.contains { $0["step"] is String && !(($0["assertions"] as? [Any]) ?? []).isEmpty })
        #expect(results.contains { $0["tls"] is NSNull && $0["http"] is [String: Any] })
    }

    @Test func theSchemasRefuseBrokenDocuments() async throws {
        let lab = try TLSLab.shared()
        let directory = try Self.temporaryDirectory("sonda-schema-broken")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try await AgentCLI.run("probe", lab.url("tls13", "/api/health"), "--ca-file", lab.ca, "--json")
        let line = try #require(run.lines.first, "\(run.stderr)")
        try line.write(toFile: "\(directory)/real.json", atomically: true, encoding: .utf8)
        #expect(try await Self.validate("result.schema.json", ["\(directory)/real.json"]).status == 0)

        // Each broken copy of the real result, and the path the validator must name.
        let broken: [(String, String, String)] = [
            (#""total":"#, #""total":"1.5","total_was":"#, "$.phases_ms.total"),
            (#""error":null"#, #""error":{"code":"tls_version","message":"x"}"#, "$.error"),
            (#""error":null"#, #""error":{"code":"No such code","message":"x"}"#, "$.error.code"),
            (#""error":null"#, #""error":{"code":"quantum_tunnel"}"#, "'message' is a required property"),
            (#""ok":true"#, #""ok":"true""#, "$.ok"),
            (#""started_at":""#, #""started_at":"1 "#, "$.started_at"),
            (#""id":""#, #""idx":""#, "'id' is a required property"),
            (#""verified":true"#, #""verified":1"#, "$.tls.verified"),
        ]
        for (index, (from, to, named)) in broken.enumerated() {
            let text = line.replacingOccurrences(of: from, with: to)
            #expect(text != line, "the real result has \(from)")
            try text.write(toFile: "\(directory)/broken-\(index).json", atomically: true, encoding: .utf8)
            let check = try await Self.validate("result.schema.json", ["\(directory)/broken-\(index).json"])
            #expect(check.status == 1 && check.stdout.contains(named), "\(to): \(check.stdout)\(check.stderr)")
        }
        let batch = #"{"agent":"a","batch_id":"b","sent_at":"2026-11-23T10:00:00.123Z","results":[\#(line)]}"#
        try batch.write(toFile: "\(directory)/batch.json", atomically: true, encoding: .utf8)
        let check = try await Self.validate("batch.schema.json", ["\(directory)/batch.json"])
        #expect(check.status == 1 && check.stdout.contains("'heartbeat' is a required property"), "\(check.stdout)")
    }

    @Test func sentBatchesAndTheAggregatorsAnswersMatchTheirSchemas() async throws {
        let lab = try TLSLab.shared()
        let directory = try Self.temporaryDirectory("sonda-schema-batch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "schema-rj")
        let publicKey = String(try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") }))
        let receiver = try await TestReceiver(agent: "schema-rj", publicKey: publicKey, directory: directory)
        // A passing check, and a failing one retried once, so results carry `attempts`.
        try """
        agent: {id: schema-rj, region: rio_de_janeiro}
        aggregator: {url: "\(receiver.url)", key: agent.key}
        spool: spool
        batch: {max_results: 50, max_age: 300ms}
        profiles: [none]
        ca_file: \(lab.ca)
        checks:
          - {name: health, class: authentication, interval: 500ms, timeout: 500ms, http: {url: "\(lab.url("tls13", "/api/health"))"}, expect: {json: {"$.status": ok}}}
          - {name: legacy, class: reporting, interval: 500ms, timeout: 500ms, retries: 1, http: {url: "\(lab.url("tls12", "/api/health"))"}}
        """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try BackgroundProcess(
            AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        let sent = await eventually {
            receiver.batches.flatMap { $0["results"] as? [[String: Any]] ?? [] }.contains { $0["attempts"] != nil }
                || agent.exitStatus != nil
        }
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        #expect(sent, "a result with attempts arrived: \(agent.log)")

        // Each body exactly as the agent sent it, one file each.
        let bodies = try String(contentsOfFile: receiver.outputPath, encoding: .utf8).split(separator: "\n")
        var files: [String] = []
        for (index, body) in bodies.enumerated() {
            files.append("\(directory)/batch-\(index).json")
            try String(body).write(toFile: files[index], atomically: true, encoding: .utf8)
        }
        let check = try await Self.validate("batch.schema.json", files)
        #expect(!files.isEmpty && check.status == 0, "\(check.stdout)\(check.stderr)")

        // The real aggregator takes the first batch and answers as the schemas say.
        try """
        listen: 127.0.0.1:0
        database: sonda.sqlite
        agents:
          - {id: schema-rj, region: rio_de_janeiro, site: lab, public_key: "\(publicKey)"}
        admin_tokens: [schema-test-admin-token]
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let aggregator = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/aggregator.port"])
        defer { aggregator.signal(SIGTERM) }
        let server = "http://127.0.0.1:\(try await aggregator.port(writtenTo: "\(directory)/aggregator.port"))"
        let first = try #require(files.first)
        let post = TLSLab.packageRoot.appendingPathComponent("Tests/Support/signed-post.py").path
        let signed = [
            "python3", post, "--key", "\(directory)/agent.key", "--agent", "schema-rj", "\(server)/v1/results",
        ]
        let answers: [(arguments: [String], status: String, schema: String)] = [
            (signed + [first], "200", "ingest-answer.schema.json"),
            (signed + [first], "200", "ingest-answer.schema.json"),
            (["python3", post, "\(server)/v1/results", first], "401", "error.schema.json"),
            (["python3", post, "\(server)/v1/silences", first], "401", "error.schema.json"),
        ]
        var replies: [String] = []
        for (index, answer) in answers.enumerated() {
            let run = try await ChildProcess.run("/usr/bin/env", answer.arguments)
            let lines = run.stdout.split(separator: "\n", maxSplits: 1).map(String.init)
            #expect(
                lines.first == answer.status, "\(answer.arguments.last!): \(run.stdout)\(run.stderr)\n\(aggregator.log)"
            )
            let reply = lines.count > 1 ? lines[1] : ""
            replies.append(reply)
            try reply.write(toFile: "\(directory)/answer-\(index).json", atomically: true, encoding: .utf8)
            let check = try await Self.validate(answer.schema, ["\(directory)/answer-\(index).json"])
            #expect(check.status == 0, "\(reply): \(check.stdout)\(check.stderr)")
        }
        let accepted = Self.object(replies[0])["accepted"] as? Int
        #expect(accepted == (Self.object(bodies[0])["results"] as? [Any])?.count, "\(replies[0])")
        #expect(Self.object(replies[1])["replayed"] as? Bool == true, "the same batch again is a replay: \(replies[1])")
    }
}

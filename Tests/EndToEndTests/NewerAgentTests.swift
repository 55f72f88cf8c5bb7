import Foundation
import SondaCore
import TestSupport
import Testing

/// The real `sonda-aggregator serve` given a batch from a newer agent, signed as an agent signs it
/// (Tests/Support/signed-post.py): an error code, a phase, a budget phase and keys it does not know
/// are taken (200), stored as sent, counted as failures, alerted on and shown with their code by the
/// API, the CLI and the status page. On both stores.
@Suite(.serialized) struct NewerAgentTests {
    static let binary = TLSLab.builtBinary("sonda-aggregator")

    /// A result as a newer agent might write it: `quantum_tunnel` is no code this version knows.
    static func result(at: Date, failing: Bool, agent: String = "future-1") -> String {
        let error = failing ? #"{"code":"quantum_tunnel","message":"the tunnel collapsed"}"# : "null"
        return """
            {"agent":"\(agent)","assertions":[],"budget":{"limit_ms":250,"ok":true,"phase":"quic_handshake"},\
            "check":"teleport","class":"reporting","error":\(error),"http":null,"id":"\(UUIDv7.generate())",\
            "ok":\(!failing),"phases_ms":{"dns":1.5,"quic_handshake":4.25,"total":9.5},"profile":"none",\
            "quantum_state":{"entangled":true,"qubits":[0,1]},"region":"sao_paulo",\
            "started_at":"\(Timestamp.format(at))","step":null,"tls":null}
            """
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aNewerAgentsBatchIsTakenCountedAndShown(store: String) async throws {
        let directory = try ContractSchemaTests.temporaryDirectory("sonda-newer-agent")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "future-1")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
        listen: 127.0.0.1:0
        database: "\(store == "sqlite" ? "sonda.sqlite" : try await PostgresServer.database())"
        agents: [{id: future-1, region: sao_paulo, public_key: "\(publicKey)"}]
        alerting: {evaluate_every: 200ms, down: {quorum: 1, for: 2}}
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let aggregator = try BackgroundProcess(
            Self.binary, ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"])
        let server = "http://127.0.0.1:\(try await aggregator.port(writtenTo: "\(directory)/port"))"

        let now = Date()
        let results = [
            Self.result(at: now.addingTimeInterval(-3), failing: false),
            Self.result(at: now.addingTimeInterval(-2), failing: true),
            Self.result(at: now.addingTimeInterval(-1), failing: true),
        ]
        try """
        {"agent":"future-1","batch_id":"future-batch-1","heartbeat":{"config_hash":"\(String(repeating: "3f", count: 32))","dropped":0,\
        "quantum_link":"up","spool_depth":0,"version":"9.0.0"},"results":[\(results.joined(separator: ","))],\
        "sent_at":"\(Timestamp.format(now))","sent_by":"sonda-agent 9.0.0"}
        """.write(toFile: "\(directory)/batch.json", atomically: true, encoding: .utf8)
        let schema = try await ContractSchemaTests.validate("batch.schema.json", ["\(directory)/batch.json"])
        #expect(schema.status == 0, "the schemas allow what a newer agent adds: \(schema.stdout)\(schema.stderr)")

        let post = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("Tests/Support/signed-post.py").path, "--key",
                "\(directory)/agent.key", "--agent", "future-1", "\(server)/v1/results", "\(directory)/batch.json",
            ])
        #expect(
            post.stdout == "200\n{\"accepted\":3,\"duplicates\":0}", "\(post.stdout)\(post.stderr)\(aggregator.log)")

        // Stored as sent, newest first, unknown keys and code included.
        let page = try await ChildProcess.run("/usr/bin/curl", ["-s", "\(server)/v1/checks/teleport/results"])
        #expect(page.stdout.hasSuffix(#""results":[\#(results.reversed().joined(separator: ","))]}"#), "\(page.stdout)")

        // Counted as failures: 2 of 3 in uptime (rollups may be written a moment later).
        var uptime = ""
        let counted = await eventually {
            let run = try? await ChildProcess.run(
                Self.binary, ["uptime", "--server", server, "--check", "teleport", "--window", "1h", "--json"])
            uptime = run?.stdout ?? ""
            return uptime.contains(#""failed":2"#)
        }
        #expect(counted && uptime.contains(#""total":3"#), "\(uptime)")

        // Alerted on with its code: the last two results failed, `down.for` is 2.
        var alerts = ""
        let alerted = await eventually {
            alerts = (try? await ChildProcess.run(Self.binary, ["alerts", "--server", server]))?.stdout ?? ""
            return alerts.contains("SondaDown")
        }
        #expect(alerted && alerts.contains("quantum_tunnel"), "\(alerts)")

        let html = try await ChildProcess.run("/usr/bin/curl", ["-s", "\(server)/checks/teleport"])
        #expect(html.stdout.contains("✕ quantum_tunnel × 2") && html.stdout.contains("the tunnel collapsed"))

        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "\(aggregator.log)")
    }
}

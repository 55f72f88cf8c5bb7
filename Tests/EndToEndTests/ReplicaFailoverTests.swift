import Foundation
import TestSupport
import Testing

/// Two `serve` replicas on one PostgreSQL database: either takes any batch, one evaluates alerts,
/// and when it is killed with -9 the other takes over and each firing and resolution reaches the
/// webhook exactly once.
@Suite struct ReplicaFailoverTests {
    /// A webhook receiver that appends every body it gets as one line.
    static let webhook = """
        import http.server, sys
        out = open(sys.argv[2], "ab", buffering=0)
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_POST(self):
                out.write(self.rfile.read(int(self.headers["Content-Length"])).replace(b"\\n", b" ") + b"\\n")
                self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        open(sys.argv[1] + ".tmp", "w").write(str(s.server_port))
        import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        s.serve_forever()
        """

    @Test func theStandbyTakesOverAndEachChangeIsDeliveredOnce() async throws {
        let directory = NSTemporaryDirectory() + "sonda-failover-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try BackgroundProcess(
            "/usr/bin/python3", ["-c", Self.webhook, "\(directory)/webhook.port", "\(directory)/webhook.log"])
        let webhookPort = try await receiver.port(writtenTo: "\(directory)/webhook.port")
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
        listen: 127.0.0.1:0
        database: "\(try await PostgresServer.database())"
        agents: [{id: bench, region: sao_paulo, public_key: "\(publicKey)"}]
        alerting:
          evaluate_every: 500ms
          agent_silent: {after: 3, heartbeat: 1s}
          receivers: [{name: ops, webhook: {url: "http://127.0.0.1:\(webhookPort)/hook"}}]
          routes: [{receiver: ops}]
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)

        func replica(_ name: String) async throws -> (BackgroundProcess, Int) {
            let process = try BackgroundProcess(
                AggregatorEndToEndTests.aggregatorBinary,
                ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/\(name).port"])
            return (process, try await process.port(writtenTo: "\(directory)/\(name).port"))
        }
        func send(to port: Int) async throws {
            let load = try await ChildProcess.run(
                "/usr/bin/env",
                [
                    "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port",
                    "\(port)", "--key", "\(directory)/agent.key", "--senders", "1", "--batch", "5", "--batches", "1",
                    "--lazy",
                ])
            try #require(load.status == 0, "\(load.stderr)")
        }
        /// How often the silent agent's first episode was announced with `status`. (Once resolved,
        /// the agent may fall silent again: that is a new episode, with a later startsAt.)
        func delivered(_ status: String) -> Int {
            let log = (try? String(contentsOfFile: "\(directory)/webhook.log", encoding: .utf8)) ?? ""
            let alerts = log.split(separator: "\n").compactMap { line -> [String: Any]? in
                let message = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return (message?["alerts"] as? [[String: Any]])?.first {
                    ($0["labels"] as? [String: String])?["alertname"] == "SondaAgentSilent"
                }
            }
            let episode = alerts.first?["startsAt"] as? String
            return alerts.filter { $0["startsAt"] as? String == episode && $0["status"] as? String == status }.count
        }

        let (first, _) = try await replica("first")
        #expect(await eventually { first.log.contains("this replica") && first.log.contains("evaluates now") })
        let (second, secondPort) = try await replica("second")
        defer { second.signal(SIGTERM) }
        #expect(await eventually { second.log.contains("stands by") }, "\(second.log)")

        // Heard through the standby (any replica takes any batch), then silent: the leader's
        // alert is on its way when the leader dies.
        try await send(to: secondPort)
        first.signal(SIGKILL)
        _ = await first.wait()
        #expect(await eventually { second.log.contains("evaluates now") }, "the standby takes over: \(second.log)")
        #expect(await eventually { delivered("firing") >= 1 }, "the silent agent pages: \(second.log)")

        try await send(to: secondPort)
        #expect(await eventually { delivered("resolved") >= 1 }, "and resolves: \(second.log)")
        let log = (try? String(contentsOfFile: "\(directory)/webhook.log", encoding: .utf8)) ?? ""
        #expect(delivered("firing") == 1, "firing delivered exactly once: \(log)\n\(first.log)\n\(second.log)")
        #expect(delivered("resolved") == 1, "resolved delivered exactly once: \(log)")
    }
}

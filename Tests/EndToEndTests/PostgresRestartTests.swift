import Foundation
import TestSupport
import Testing

/// PostgreSQL crashes and comes back while two replicas ingest from a load generator and a real
/// agent: both replicas recover without a restart, the agent's spool drains, and every result is
/// stored exactly once, with rollups that count each once.
@Suite struct PostgresRestartTests {
    @Test func replicasAndAgentsRecoverAndNothingAcknowledgedIsLost() async throws {
        let cluster = try await DedicatedPostgres()
        defer { withExtendedLifetime(cluster) {} }
        let lab = try TLSLab.shared()
        let directory = NSTemporaryDirectory() + "sonda-pg-restart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var keys: [String: String] = [:]
        for id in ["bench", "clinic"] {
            let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/\(id).key", "--id", id)
            keys[id] = String(try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") }))
        }
        try """
            listen: 127.0.0.1:0
            database: "\(cluster.url)"
            agents:
              - {id: bench, region: sao_paulo, public_key: "\(keys["bench"]!)"}
              - {id: clinic, region: sao_paulo, public_key: "\(keys["clinic"]!)"}
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        var replicas: [BackgroundProcess] = []
        var ports: [Int] = []
        for n in 1...2 {
            let replica = try BackgroundProcess(
                AggregatorEndToEndTests.aggregatorBinary,
                ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port\(n)"])
            replicas.append(replica)
            ports.append(try await replica.port(writtenTo: "\(directory)/port\(n)"))
        }
        defer { for replica in replicas { replica.signal(SIGTERM) } }

        try """
            agent: {id: clinic, region: sao_paulo}
            aggregator:
              urls: ["http://127.0.0.1:\(ports[0])", "http://127.0.0.1:\(ports[1])"]
              key: clinic.key
            spool: spool
            batch: {max_results: 20, max_age: 300ms}
            profiles: [none]
            checks:
              - {name: home, class: authentication, interval: 200ms, timeout: 150ms, http: {url: "\(lab.url("http", "/"))"}}
            """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try BackgroundProcess(
            AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        defer { agent.signal(SIGTERM) }

        // 20 000 results in batches of 100, each sent again after a 5xx or a reset until a 200.
        let total = 20_000
        let load = try BackgroundProcess(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path,
                "--ports", ports.map(String.init).joined(separator: ","), "--key", "\(directory)/bench.key",
                "--senders", "4", "--batch", "100", "--batches", "\(total / 100)", "--lazy", "--retry",
                "--acked-out", "\(directory)/acked",
            ])
        func acked() -> Int {
            ((try? String(contentsOfFile: "\(directory)/acked", encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        func health(_ port: Int) async -> String {
            (try? await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/health"]))?.stdout ?? ""
        }
        func agentResults() async -> Int? {
            let answer = try? await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(ports[1])/v1/agents"])
            let agents = (try? JSONSerialization.jsonObject(with: Data((answer?.stdout ?? "").utf8))) as? [String: Any]
            let clinic = (agents?["agents"] as? [[String: Any]])?.first { $0["id"] as? String == "clinic" }
            return clinic?["results"] as? Int
        }

        // The crash lands mid-load, once both the generator and the agent have had results stored.
        let underWay = await eventually {
            if load.exitStatus != nil { return true }
            guard acked() >= 2_000 else { return false }
            return (await agentResults() ?? 0) > 0
        }
        #expect(underWay)
        try await cluster.control("stop")
        for port in ports {
            #expect(await eventually { await health(port).contains("database_unavailable") }, "replica on \(port)")
        }
        let beforeRestart = acked()
        #expect(beforeRestart < total, "the crash came mid-load")
        try await cluster.control("start")

        for port in ports {
            #expect(await eventually { await health(port) == #"{"status":"ok"}"# }, "replica on \(port) recovers")
        }
        // A request whose query the driver lost after the restart is answered once the store's
        // watchdog closes that connection (PostgresStore.useDeadline, 120 s), so allow for a few.
        #expect(await load.wait(timeout: .seconds(600)) == 0, "every batch is acknowledged in the end: \(load.log)")
        #expect(load.log.contains("batches sent again"), "\(load.log)")
        let storedBench = try await PostgresServer.psql(cluster.url, "SELECT count(*) FROM results WHERE agent = 'bench'")
        #expect(storedBench == "\(total)", "each result of the load stored exactly once")

        // The agent goes on reporting after the outage and its spool drains.
        let afterRestart = await agentResults() ?? 0
        #expect(await eventually { (await agentResults() ?? 0) > afterRestart + 20 }, "\(agent.log)")
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        let spooled = ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/spool")) ?? [])
            .filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".open") }
        #expect(spooled.isEmpty, "the agent's spool drained before it stopped: \(spooled)")
        let exact = try await PostgresServer.psql(
            cluster.url,
            """
            SELECT (SELECT SUM(count) FROM outcome_minute) = (SELECT COUNT(*) FROM results)
               AND (SELECT SUM(count) FROM outcome_hour) = (SELECT COUNT(*) FROM results)
               AND (SELECT SUM(count) FROM latency_minute)
                   = (SELECT COUNT(*) FROM results WHERE ok)
            """)
        #expect(exact == "t", "rollups count every stored result once")
        for replica in replicas {
            #expect(!replica.log.contains("Fatal error"), "\(replica.log)")
            #expect(replica.exitStatus == nil, "the replica stayed up: \(replica.log)")
        }
    }
}

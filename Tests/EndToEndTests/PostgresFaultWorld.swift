import Foundation
import TestSupport
import Testing

/// A dedicated PostgreSQL, two replicas of `serve` on it, an agent reporting to both, and
/// bench/ingest-load.py sending `total` results through both (the ids it got a 200 for in `acked`).
final class PostgresFaultWorld: @unchecked Sendable {
    static let total = 20_000
    let cluster: DedicatedPostgres
    let directory: String
    let ports: [Int]
    let replicas: [BackgroundProcess]
    let agent: BackgroundProcess
    let load: BackgroundProcess

    init() async throws {
        cluster = try await DedicatedPostgres()
        let lab = try TLSLab.shared()
        directory = NSTemporaryDirectory() + "sonda-pg-fault-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var keys: [String: String] = [:]
        for id in ["bench", "clinic"] {
            let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/\(id).key", "--id", id)
            keys[id] = String(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") } ?? "")
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
        (self.replicas, self.ports) = (replicas, ports)
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
        agent = try BackgroundProcess(
            AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        load = try BackgroundProcess(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path,
                "--ports", ports.map(String.init).joined(separator: ","), "--key", "\(directory)/bench.key",
                "--senders", "4", "--batch", "100", "--batches", "\(Self.total / 100)", "--lazy", "--retry",
                "--acked-out", "\(directory)/acked",
            ])
    }

    deinit {
        for process in [load, agent] + replicas { process.signal(SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Results of the load generator acknowledged so far.
    func acked() -> Int {
        ((try? String(contentsOfFile: "\(directory)/acked", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    func health(_ port: Int) async -> String {
        (try? await ChildProcess.run("/usr/bin/curl", ["-s", "-m", "10", "http://127.0.0.1:\(port)/health"]))?.stdout
            ?? ""
    }

    /// Distinct probes (check, profile, start) of `agent` in the database.
    func stored(_ agent: String) async throws -> Int {
        Int(
            try await query(
                "SELECT count(DISTINCT (check_name, profile, started_at_ms)) FROM results WHERE agent = '\(agent)'"))
            ?? 0
    }

    func query(_ sql: String) async throws -> String { try await PostgresServer.psql(cluster.url, sql) }

    /// Waits for the load to end, stops the agent (what it still holds is in its account), and
    /// takes the figures.
    func finish(_ scenario: String, recovery: Duration?, notes: String) async throws -> FaultFigures {
        // A query the driver lost in the restart is answered once the store's watchdog closes that
        // connection (PostgresStore.useDeadline, 120 s).
        #expect(await load.wait(timeout: .seconds(600)) == 0, "every batch is acknowledged in the end: \(load.log)")
        let peakAgent = FaultFleet.peakKilobytes(of: agent.pid)
        let peakAggregator = replicas.map { FaultFleet.peakKilobytes(of: $0.pid) }.max() ?? 0
        agent.signal(SIGTERM)
        let status = await agent.wait()
        guard status == 0, let account = FaultFleet.account(in: agent.log) else {
            throw ChildProcess.SpawnFailed(description: "the agent exited \(String(describing: status)):\n\(agent.log)")
        }
        let acked = Set(
            ((try? String(contentsOfFile: "\(directory)/acked", encoding: .utf8)) ?? "").split(separator: "\n")
        ).count
        let benchRows = Int(try await query("SELECT count(*) FROM results WHERE agent = 'bench'")) ?? 0
        let agentRows = Int(try await query("SELECT count(*) FROM results WHERE agent = 'clinic'")) ?? 0
        let agentStored = try await stored("clinic")
        let dropped = account.unwritten + account.dropped
        let figures = FaultFigures(
            scenario: scenario, produced: acked + account.produced, stored: benchRows + agentStored,
            lost: max(0, acked - benchRows) + max(0, account.produced - agentStored - dropped - account.spooled),
            duplicated: max(0, benchRows - acked) + agentRows - agentStored, dropped: dropped, falsePages: 0,
            missedPages: 0, recoverySeconds: recovery?.secondsValue,
            peakAgentMegabytes: Double(peakAgent) / 1024, peakAggregatorMegabytes: Double(peakAggregator) / 1024,
            notes: notes
                + " Two replicas; \(acked) results of the load generator acknowledged and \(account.produced) of the agent; no alerting configured."
        )
        figures.record()
        for replica in replicas {
            #expect(replica.exitStatus == nil && !replica.log.contains("Fatal error"), "\(replica.log)")
        }
        return figures
    }
}

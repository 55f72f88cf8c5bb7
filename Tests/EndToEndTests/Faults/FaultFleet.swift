import Foundation
import TestSupport

/// One agent and one aggregator (SQLite) on either side of a `FaultNetwork`, and a webhook receiver
/// for the aggregator's pages, all real binaries. The agent probes two targets in its own namespace
/// every second: its own `/metrics` (`up`, always passing) and a closed port (`broken`, so one page
/// is due: SondaDown for `broken`). Produced results are counted by the agent itself (the account it
/// logs when it stops), stored ones in the aggregator's database.
final class FaultFleet: @unchecked Sendable {
    static let agentID = "fault-agent"
    static let agentPort = 9471
    static let aggregatorPort = 9470
    static let proxyPort = 9480

    let directory: String
    let network: FaultNetwork
    let database: String
    private let publicKey: String
    private let webhook: BackgroundProcess
    private let webhookPort: Int
    private(set) var aggregator: BackgroundProcess?
    private(set) var agent: BackgroundProcess?
    private var proxy: BackgroundProcess?
    /// The account of agent runs that have ended.
    private var produced = 0
    private var unwritten = 0
    private var droppedInSpool = 0
    private var peakAgentKilobytes = 0
    private var peakAggregatorKilobytes = 0

    /// `databaseDirectory`: where the aggregator's SQLite file goes (a small disk, for one scenario).
    init(databaseDirectory: String? = nil) async throws {
        directory = NSTemporaryDirectory() + "sonda-fault-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        network = try await FaultNetwork(directory: directory)
        database = (databaseDirectory ?? directory) + "/sonda.sqlite"
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", Self.agentID)
        publicKey = String(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") } ?? "")
        webhook = try network.start(
            in: network.serverNamespace, "/usr/bin/python3",
            ["-c", ReplicaFailoverTests.webhook, "\(directory)/webhook.port", "\(directory)/webhook.log"])
        webhookPort = try await webhook.port(writtenTo: "\(directory)/webhook.port")
    }

    deinit {
        for process in [agent, aggregator, proxy] { process?.signal(SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Processes

    /// `certificate`: serve HTTPS with this chain and key (files of `scripts/tls-lab`).
    func startAggregator(certificate: (chain: String, key: String)? = nil) async throws {
        let tls = certificate.map { "tls: {cert: \($0.chain), key: \($0.key)}\n" } ?? ""
        try """
        listen: 0.0.0.0:\(Self.aggregatorPort)
        database: \(database)
        \(tls)agents: [{id: \(Self.agentID), region: sao_paulo, public_key: "\(publicKey)"}]
        alerting:
          evaluate_every: 1s
          down: {quorum: 1, for: 3}
          receivers: [{name: ops, webhook: {url: "http://127.0.0.1:\(webhookPort)/hook"}}]
          routes: [{receiver: ops}]
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        unlink("\(directory)/aggregator.port")
        let process = try network.start(
            in: network.serverNamespace, AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/aggregator.port"])
        aggregator = process
        _ = try await process.port(writtenTo: "\(directory)/aggregator.port")
    }

    func stopAggregator() async {
        guard let aggregator else { return }
        peakAggregatorKilobytes = max(peakAggregatorKilobytes, Self.peakKilobytes(of: aggregator.pid))
        aggregator.signal(SIGTERM)
        _ = await aggregator.wait()
    }

    /// `faults/stalling-proxy.py` in the aggregator's namespace; the agent reports through it when
    /// started with `throughProxy`. `mode` is its control word (pass, silent, hold:SECONDS).
    func startProxy() async throws {
        try setProxy("pass")
        let process = try network.start(
            in: network.serverNamespace, "/usr/bin/python3",
            [
                TLSLab.packageRoot.appendingPathComponent("faults/stalling-proxy.py").path, "--listen",
                "0.0.0.0:\(Self.proxyPort)", "--upstream", "127.0.0.1:\(Self.aggregatorPort)", "--control",
                "\(directory)/proxy.mode",
            ])
        proxy = process
        guard
            await eventually(every: .milliseconds(50), { process.log.contains("ready") || process.exitStatus != nil }),
            process.exitStatus == nil
        else { throw ChildProcess.SpawnFailed(description: "stalling-proxy: \(process.log)") }
    }

    func setProxy(_ mode: String) throws {
        try mode.write(toFile: "\(directory)/proxy.mode", atomically: true, encoding: .utf8)
    }

    /// Starts the agent in its namespace; `environment` is added to the test's. `trusting`: report
    /// over HTTPS to `FaultNetwork.serverName`, with this CA file (`--aggregator-ca-file`).
    /// `batch` and `checks` (YAML list items) replace or add to the defaults.
    func startAgent(
        throughProxy: Bool = false, spool: String? = nil, trusting caFile: String? = nil,
        batch: String = "{max_results: 20, max_age: 1s}", checks moreChecks: [String] = [],
        environment: [String: String] = [:]
    ) async throws {
        let port = throughProxy ? Self.proxyPort : Self.aggregatorPort
        let server = caFile == nil ? "http://\(network.serverAddress)" : "https://\(FaultNetwork.serverName)"
        let checks =
            [
                "{name: up, class: authentication, interval: 1s, timeout: 800ms, http: {url: \"http://127.0.0.1:\(Self.agentPort)/metrics\"}}",
                "{name: broken, class: reporting, interval: 1s, timeout: 800ms, http: {url: \"http://127.0.0.1:9/\"}}",
            ] + moreChecks
        try """
        agent: {id: \(Self.agentID), region: sao_paulo}
        aggregator: {url: "\(server):\(port)", key: agent.key}
        spool: \(spool ?? "spool")
        batch: \(batch)
        profiles: [none]
        checks:
        \(checks.map { "  - " + $0 }.joined(separator: "\n"))
        """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let process = try network.start(
            in: network.agentNamespace, AgentCLI.binary,
            ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:\(Self.agentPort)"]
                + (caFile.map { ["--aggregator-ca-file", $0] } ?? []), environment: environment)
        agent = process
        guard
            await eventually(
                every: .milliseconds(50), { process.log.contains("on port") || process.exitStatus != nil }),
            process.exitStatus == nil
        else { throw ChildProcess.SpawnFailed(description: "the agent did not start: \(process.log)") }
    }

    /// SIGTERM, a drain, and the account the agent logs as it exits; returns its log.
    @discardableResult
    func stopAgent() async throws -> String {
        guard let agent else { return "" }
        peakAgentKilobytes = max(peakAgentKilobytes, Self.peakKilobytes(of: agent.pid))
        agent.signal(SIGTERM)
        let status = await agent.wait()
        let log = agent.log
        guard status == 0, let account = Self.account(in: log) else {
            throw ChildProcess.SpawnFailed(description: "the agent exited \(String(describing: status)):\n\(log)")
        }
        produced += account.produced
        unwritten += account.unwritten
        droppedInSpool = account.dropped  // a running total the spool keeps across restarts
        self.agent = nil
        return log
    }

    // MARK: Observations

    /// A sample's value in the agent's `/metrics` (the first series of that name).
    func agentMetric(_ name: String) async -> Double? {
        let body = await network.get("/metrics", port: Self.agentPort, in: network.agentNamespace).body
        let line = body.split(separator: "\n").first { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func agentGet(_ path: String) async -> (status: Int, body: String) {
        await network.get(path, port: Self.agentPort, in: network.agentNamespace)
    }

    func aggregatorGet(_ path: String) async -> (status: Int, body: String) {
        await network.get(path, port: Self.aggregatorPort, in: network.serverNamespace)
    }

    /// Rows of the agent's results in the aggregator's database, and distinct probes among them
    /// (check, profile, start): a probe stored twice under two ids is a duplicate.
    func stored() async throws -> (rows: Int, probes: Int) {
        let output = try await ChildProcess.run(
            "/usr/bin/sqlite3",
            [
                "-readonly", database,
                "SELECT count(*), count(DISTINCT check_name || '|' || profile || '|' || started_at_ms) FROM results",
            ])
        let numbers = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|")
        guard output.status == 0, numbers.count == 2 else {
            throw ChildProcess.SpawnFailed(description: "sqlite3: \(output.stderr)")
        }
        return (Int(numbers[0])!, Int(numbers[1])!)
    }

    /// Until the aggregator has stored `count` probes; false after `timeout`.
    func awaitStored(_ count: Int, timeout: Duration = generousTimeout) async -> Bool {
        await eventually(timeout: timeout) { ((try? await stored())?.probes ?? 0) >= count }
    }

    /// From `since` (a fault healed) until every result the agent has produced by now, less those it
    /// dropped and counted, is stored; nil if that takes longer than `timeout`.
    func awaitDelivery(since: ContinuousClock.Instant, timeout: Duration = .seconds(300)) async -> Duration? {
        let due = Int(await agentMetric("sonda_probes_total") ?? 0) + produced
        let delivered = await eventually(timeout: timeout) {
            let dropped = Int(await agentMetric("sonda_spool_dropped_total") ?? 0)
            let unwritten = Int(await agentMetric("sonda_spool_unwritten_total") ?? 0)
            return ((try? await stored())?.probes ?? 0) >= due - dropped - unwritten - self.unwritten
        }
        return delivered ? ContinuousClock.now - since : nil
    }

    /// The largest gap between two consecutive starts of check `up` in the stored results.
    func largestGap(check: String = "up") async throws -> Double {
        let output = try await ChildProcess.run(
            "/usr/bin/sqlite3",
            ["-readonly", database, "SELECT started_at_ms FROM results WHERE check_name = '\(check)' ORDER BY 1"])
        let starts = output.stdout.split(separator: "\n").compactMap { Double($0) }
        return zip(starts, starts.dropFirst()).map { ($1 - $0) / 1000 }.max() ?? 0
    }

    /// Each page the webhook got: an alert's firing, once however often it was re-sent.
    var pages: [String] {
        let log = (try? String(contentsOfFile: "\(directory)/webhook.log", encoding: .utf8)) ?? ""
        var seen = Set<String>()
        var pages: [String] = []
        for line in log.split(separator: "\n") {
            let message = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            for alert in message?["alerts"] as? [[String: Any]] ?? [] where alert["status"] as? String == "firing" {
                let labels = alert["labels"] as? [String: String] ?? [:]
                let name = [labels["alertname"], labels["check"]].compactMap { $0 }.joined(separator: "/")
                let episode = "\(alert["fingerprint"] ?? "")@\(alert["startsAt"] ?? "")"
                if seen.insert(episode).inserted { pages.append(name) }
            }
        }
        return pages
    }

    /// Pages `broken` may rightly get besides SondaDown, once each: its SLO burns once it has
    /// failed long enough for the burn-rate windows.
    static let deservedPages = ["SondaSLOBurn/broken"]

    /// Stops what runs and takes the figures. `expectedPages` are the pages the scenario's world
    /// deserves and must get (`SondaDown/broken` always), each once; `deservedPages` may come, once;
    /// any other page, or the same one twice, is false.
    func finish(
        _ scenario: String, recovery: Duration?, expectedPages: [String] = ["SondaDown/broken"], notes: String = ""
    ) async throws -> FaultFigures {
        _ = await eventually(timeout: .seconds(30)) { Set(expectedPages).isSubset(of: Set(pages)) }
        try await stopAgent()
        let stored = try await stored()
        await stopAggregator()
        // Negative when results counted as dropped had reached the aggregator after all: a batch it
        // committed whose answer the fault cut off, dropped later by a full spool.
        let unaccounted = produced - stored.probes - droppedInSpool - unwritten
        var notes = notes
        if unaccounted < 0 { notes += " \(-unaccounted) counted as dropped were stored (committed, answer lost)." }
        let received = self.pages
        var unexpected = received
        for page in expectedPages + Self.deservedPages {
            if let index = unexpected.firstIndex(of: page) { unexpected.remove(at: index) }
        }
        let figures = FaultFigures(
            scenario: scenario, produced: produced, stored: stored.probes,
            lost: max(0, unaccounted), duplicated: stored.rows - stored.probes,
            dropped: droppedInSpool + unwritten, falsePages: unexpected.count,
            missedPages: expectedPages.filter { !received.contains($0) }.count,
            recoverySeconds: recovery.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 },
            peakAgentMegabytes: Double(peakAgentKilobytes) / 1024,
            peakAggregatorMegabytes: Double(peakAggregatorKilobytes) / 1024,
            notes: notes + (unexpected.isEmpty ? "" : " false pages: \(unexpected.joined(separator: ", "))"))
        figures.record()
        return figures
    }

    /// The account an agent logs as it exits: results produced, not spooled for want of disk, still
    /// spooled, and dropped in the spool's life.
    static func account(in log: String) -> (produced: Int, unwritten: Int, spooled: Int, dropped: Int)? {
        log.firstMatch(of: /results: (\d+) produced, (\d+) not spooled \(disk\), (\d+) still spooled; (\d+) dropped/)
            .map { (Int($0.1)!, Int($0.2)!, Int($0.3)!, Int($0.4)!) }
    }

    static func peakKilobytes(of pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.firstMatch(of: /VmHWM:\s+(\d+) kB/).flatMap { Int($0.1) } ?? 0
    }
}

import Foundation
import Synchronization
import TestSupport

/// Two network namespaces, the agent's and the aggregator's, joined only by `faults/lossy-link.py`
/// between a TUN device in each: the agent reaches the aggregator at `serverAddress`, and every
/// packet between them can be delayed, lost (`impair`) or dropped by an nftables rule in the
/// agent's namespace (`partition`, `heal`). Ports are the namespaces' own, so fixed ones are safe.
/// Needs root (as CI runs), `/dev/net/tun` and `nft`.
final class FaultNetwork: @unchecked Sendable {
    static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/net/tun")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")
    }

    let agentNamespace: String
    let serverNamespace: String
    let agentAddress: String
    let serverAddress: String
    private let control: String
    private var relay: BackgroundProcess?

    init(directory: String) async throws {
        // Namespace names are global: the pid and a counter keep parallel runs apart.
        let number = Self.counter.add(1)
        let name = "sf\(getpid() % 100_000)n\(number)"
        agentNamespace = name + "a"
        serverNamespace = name + "s"
        let subnet = "10.77.\(Int(getpid() % 200) + number % 50)"
        agentAddress = subnet + ".2"
        serverAddress = subnet + ".1"
        control = directory + "/link.json"
        try impair(loss: 0, delayMilliseconds: 0)
        // `ip netns exec` mounts /etc/netns/NAME/hosts over /etc/hosts: in the agent's namespace the
        // aggregator has a name its TLS certificate (scripts/tls-lab) holds.
        try FileManager.default.createDirectory(
            atPath: "/etc/netns/\(agentNamespace)", withIntermediateDirectories: true)
        try "127.0.0.1 localhost\n\(serverAddress) \(Self.serverName)\n".write(
            toFile: "/etc/netns/\(agentNamespace)/hosts", atomically: true, encoding: .utf8)
        for (namespace, address, peer) in [
            (agentNamespace, agentAddress, serverAddress), (serverNamespace, serverAddress, agentAddress),
        ] {
            try await Self.ip(["netns", "add", namespace])
            try await Self.ip(["-n", namespace, "link", "set", "lo", "up"])
            try await Self.ip(["-n", namespace, "tuntap", "add", "dev", "sfl0", "mode", "tun"])
            try await Self.ip(["-n", namespace, "addr", "add", address, "peer", peer, "dev", "sfl0"])
            try await Self.ip(["-n", namespace, "link", "set", "sfl0", "up"])
        }
        let relay = try BackgroundProcess(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("faults/lossy-link.py").path,
                "--a", "\(agentNamespace):sfl0", "--b", "\(serverNamespace):sfl0", "--control", control,
            ])
        self.relay = relay
        let ready = await eventually(every: .milliseconds(50)) {
            relay.log.contains("ready") || relay.exitStatus != nil
        }
        guard ready, relay.exitStatus == nil else {
            throw ChildProcess.SpawnFailed(description: "lossy-link did not start: \(relay.log)")
        }
    }

    private static let counter = AtomicCounter()

    /// The aggregator's name in the agent's namespace, one of the names of the lab's certificates.
    static let serverName = "api.clinic.example"

    /// Limits what the agent sends to the aggregator to `kilobits` a second (a token bucket, `tc`
    /// qdisc tbf on the agent's end of the link); nil lifts the limit.
    func limitBandwidth(kilobits: Int?) async throws {
        guard let kilobits else {
            try await run(in: agentNamespace, "/usr/sbin/tc", ["qdisc", "del", "dev", "sfl0", "root"])
            return
        }
        try await run(
            in: agentNamespace, "/usr/sbin/tc",
            [
                "qdisc", "replace", "dev", "sfl0", "root", "tbf", "rate", "\(kilobits)kbit", "burst", "4kb", "latency",
                "500ms",
            ])
    }

    /// Every packet from now on is lost with probability `loss` and otherwise delivered
    /// `delayMilliseconds` late (each way).
    func impair(loss: Double, delayMilliseconds: Int) throws {
        let temporary = control + ".tmp"
        try #"{"loss": \#(loss), "delay_ms": \#(delayMilliseconds)}"#.write(
            toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, control) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Drops every packet between the namespaces, both ways, in the agent's namespace.
    func partition() async throws {
        let rules = NSTemporaryDirectory() + "sonda-nft-\(UUID().uuidString)"
        try """
        table inet fault {
          chain out { type filter hook output priority 0; ip daddr \(serverAddress) drop; }
          chain in { type filter hook input priority 0; ip saddr \(serverAddress) drop; }
        }
        """.write(toFile: rules, atomically: true, encoding: .utf8)
        defer { unlink(rules) }
        try await run(in: agentNamespace, "/usr/sbin/nft", ["-f", rules])
    }

    func heal() async throws {
        try await run(in: agentNamespace, "/usr/sbin/nft", ["delete", "table", "inet", "fault"])
    }

    /// Starts `executable` in `namespace`: `ip netns exec` replaces itself with it, so the pid is its own.
    func start(in namespace: String, _ executable: String, _ arguments: [String], environment: [String: String] = [:])
        throws -> BackgroundProcess
    {
        try BackgroundProcess(
            "/usr/sbin/ip", ["netns", "exec", namespace, executable] + arguments, environment: environment)
    }

    /// Runs a command to its end in `namespace`; its output, or a thrown error when it fails.
    @discardableResult
    func run(in namespace: String, _ executable: String, _ arguments: [String]) async throws -> String {
        let output = try await ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespace, executable] + arguments)
        guard output.status == 0 else {
            throw ChildProcess.SpawnFailed(description: "\(executable) \(arguments) in \(namespace): \(output.stderr)")
        }
        return output.stdout
    }

    /// `GET http://127.0.0.1:PORT/PATH` from inside `namespace`: (status, body); status 0 when unreachable.
    func get(_ path: String, port: Int, in namespace: String) async -> (status: Int, body: String) {
        let output = try? await ChildProcess.run(
            "/usr/sbin/ip",
            [
                "netns", "exec", namespace, "/usr/bin/curl", "-s", "-m", "10", "-w", "\n%{http_code}",
                "http://127.0.0.1:\(port)\(path)",
            ])
        let lines = (output?.stdout ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    private static func ip(_ arguments: [String]) async throws {
        let output = try await ChildProcess.run("/usr/sbin/ip", arguments)
        guard output.status == 0 else {
            throw ChildProcess.SpawnFailed(description: "ip \(arguments.joined(separator: " ")): \(output.stderr)")
        }
    }

    deinit {
        relay?.signal(SIGTERM)
        _ = relay?.exitStatus
        for namespace in [agentNamespace, serverNamespace] {
            _ = try? ChildProcess.runBlocking("/usr/sbin/ip", ["netns", "del", namespace])
        }
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(agentNamespace)")
    }
}

/// A process-wide counter.
final class AtomicCounter: Sendable {
    private let value = Mutex(0)
    func add(_ amount: Int) -> Int {
        value.withLock {
            $0 += amount
            return $0
        }
    }
}

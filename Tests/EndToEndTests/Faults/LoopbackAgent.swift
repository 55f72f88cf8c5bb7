import Foundation
import TestSupport

/// The built agent daemon on loopback, reporting to `test-receiver.py` (which verifies each batch's
/// signature as the aggregator does), for the scenarios that need no network namespaces: hostile
/// targets and SIGHUP storms. Results are read back from what the receiver accepted.
final class LoopbackAgent: @unchecked Sendable {
    static let agentID = "hostile-agent"

    let directory: String
    let receiver: TestReceiver
    private(set) var process: BackgroundProcess?

    init() async throws {
        directory = NSTemporaryDirectory() + "sonda-loopback-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", Self.agentID)
        let publicKey = String(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") } ?? "")
        receiver = try await TestReceiver(agent: Self.agentID, publicKey: publicKey, directory: directory)
    }

    deinit {
        process?.signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }

    var configPath: String { "\(directory)/agent.yaml" }

    /// The agent file with these check lines (YAML flow mappings); `broken` adds an unknown key.
    func agentFile(checks: [String], broken: Bool = false) -> String {
        """
        agent: {id: \(Self.agentID), region: sao_paulo}
        aggregator: {url: "\(receiver.url)", key: agent.key}
        spool: spool
        batch: {max_results: 500, max_age: 500ms}
        profiles: [none]
        checks:
        \(checks.map { "  - " + $0 }.joined(separator: "\n"))
        """ + (broken ? "\n  - {name: broken, clas: oops}\n" : "\n")
    }

    func write(_ file: String) throws {
        try file.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func start() async throws {
        let process = try BackgroundProcess(
            AgentCLI.binary, ["run", "--config", configPath, "--listen", "127.0.0.1:0"])
        self.process = process
        _ = try await process.agentListenPort()
    }

    /// SIGTERM; the exit status (0 once everything is drained).
    func stop() async -> Int32? {
        guard let process else { return nil }
        process.signal(SIGTERM)
        return await process.wait()
    }

    var log: String { process?.log ?? "" }

    /// What the kernel says of the agent now.
    func sample() -> ProcessSample? { process.flatMap { ProcessSample(pid: $0.pid) } }

    struct Result {
        var check: String
        var startedAt: Double
        var code: String?
        var totalMilliseconds: Double
    }

    /// Every result the receiver accepted, once (a batch sent again after a lost answer is kept again).
    var results: [Result] {
        var seen = Set<String>()
        return receiver.batches.flatMap { $0["results"] as? [[String: Any]] ?? [] }.compactMap { result in
            guard let id = result["id"] as? String, seen.insert(id).inserted,
                let check = result["check"] as? String, let started = result["started_at"] as? String,
                let date = try? Date(
                    started, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
            else { return nil }
            let total = (result["phases_ms"] as? [String: Any])?["total"] as? Double ?? 0
            let code = (result["error"] as? [String: Any])?["code"] as? String
            return Result(
                check: check, startedAt: date.timeIntervalSince1970, code: code, totalMilliseconds: total)
        }
    }

    /// Starts of each check, in order.
    var starts: [String: [Double]] {
        Dictionary(grouping: results, by: \.check).mapValues { $0.map(\.startedAt).sorted() }
    }
}

/// Resident memory, open descriptors and threads of a process, from /proc.
struct ProcessSample: Codable {
    var residentKilobytes: Int
    var descriptors: Int
    var threads: Int

    init?(pid: pid_t) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let rss = status.firstMatch(of: /VmRSS:\s+(\d+) kB/).flatMap({ Int($0.1) }),
            let threads = status.firstMatch(of: /Threads:\s+(\d+)/).flatMap({ Int($0.1) })
        else { return nil }
        residentKilobytes = rss
        self.threads = threads
        descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count ?? 0
    }

    var megabytes: Double { Double(residentKilobytes) / 1024 }
}

/// Samples a process every `every` while the test does something else; `stop()` returns them.
final class ProcessSampler: @unchecked Sendable {
    private let task: Task<[ProcessSample], Never>

    init(_ agent: LoopbackAgent, every: Duration = .milliseconds(250)) {
        task = Task {
            var samples: [ProcessSample] = []
            while !Task.isCancelled {
                if let sample = agent.sample() { samples.append(sample) }
                try? await Task.sleep(for: every)
            }
            return samples
        }
    }

    func stop() async -> [ProcessSample] {
        task.cancel()
        return await task.value
    }
}

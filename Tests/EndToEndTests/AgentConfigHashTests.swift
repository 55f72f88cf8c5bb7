import Foundation
import TestSupport
import Testing

/// The `config_hash` of `sonda-agent run`'s heartbeats covers every file of the configuration,
/// not only the one given to `--config`, and a SIGHUP reload sends the new one.
@Suite struct AgentConfigHashTests {
    /// SHA-256 over each file's SHA-256 in hex and a newline, as sha256sum computes them.
    static func expectedHash(_ paths: [String]) async throws -> String {
        let quoted = paths.map { "'\($0)'" }.joined(separator: " ")
        let run = try await ChildProcess.run(
            "/bin/sh", ["-c", "for f in \(quoted); do sha256sum < \"$f\" | cut -c1-64; done | sha256sum | cut -c1-64"])
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The config hashes of the heartbeats the receiver accepted, in order.
    static func heartbeatHashes(in directory: String) -> [String] {
        let text = (try? String(contentsOfFile: "\(directory)/received.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let batch = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (batch?["heartbeat"] as? [String: Any])?["config_hash"] as? String
        }
    }

    @Test func theHeartbeatHashesEveryIncludedFileAndFollowsAReload() async throws {
        let setup = try await AgentDaemonTests.Setup()
        let lab = try TLSLab.shared()
        let directory = setup.directory
        try setup.write(
            config: """
                agent: {id: t1, region: sao_paulo}
                aggregator: {url: "http://127.0.0.1:\(setup.receiverPort)", key: agent.key}
                spool: spool
                batch: {max_results: 50, max_age: 300ms}
                profiles: [none]
                include: [checks.yaml]
                """)
        func writeChecks(interval: String) throws {
            try """
            checks:
              - {name: health, class: authentication, interval: \(interval), timeout: 400ms, http: {url: "\(lab.url("http", "/small.txt"))"}}
            """.write(toFile: "\(directory)/checks.yaml", atomically: true, encoding: .utf8)
        }
        try writeChecks(interval: "500ms")
        let files = ["\(directory)/agent.yaml", "\(directory)/checks.yaml"]
        let before = try await Self.expectedHash(files)

        let agent = try setup.startAgent()
        #expect(
            await eventually { Self.heartbeatHashes(in: directory).contains(before) },
            "the hash of both files: \(Self.heartbeatHashes(in: directory)) \(agent.log)")

        // Only the included file changes: the agent file, and so a hash of it alone, stays the same.
        try writeChecks(interval: "600ms")
        let after = try await Self.expectedHash(files)
        #expect(after != before)
        agent.signal(SIGHUP)
        #expect(
            await eventually {
                agent.log.contains("reloaded: 1 checks") && Self.heartbeatHashes(in: directory).last == after
            },
            "the next heartbeats carry the reloaded hash: \(Self.heartbeatHashes(in: directory).suffix(3)) \(agent.log)"
        )
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
    }
}

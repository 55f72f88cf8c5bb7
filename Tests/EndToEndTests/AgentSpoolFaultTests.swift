import Foundation
import TestSupport
import Testing

/// An agent whose spool disk fills up loses results: it says so once in its log, counts them on
/// `/metrics` and fails `/health` until it can write again.
@Suite struct AgentSpoolFaultTests {
    /// A small tmpfs mounted at `path` (the test runs as root, as CI does), unmounted at the end.
    final class SmallDisk {
        let path: String

        init(at path: String, kilobytes: Int) async throws {
            self.path = path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let mount = try await ChildProcess.run(
                "/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", path])
            guard mount.status == 0 else {
                throw ChildProcess.SpawnFailed(description: "mount tmpfs at \(path): \(mount.stderr)")
            }
        }

        private var fillers = 0

        /// Writes a file until the disk is full. Pages a writer frees later (a delivered batch file
        /// deleted) are room again: fill once more to take them.
        func fill() async throws {
            fillers += 1
            _ = try await ChildProcess.run("/bin/dd", ["if=/dev/zero", "of=\(path)/filler-\(fillers)", "bs=4k"])
        }

        func free() throws {
            for n in 1...max(fillers, 1) { try? FileManager.default.removeItem(atPath: "\(path)/filler-\(n)") }
        }

        func unmount() { _ = try? ChildProcess.runBlocking("/bin/umount", ["-l", path]) }

        deinit { unmount() }
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small disk needs root"))
    func aFullSpoolDiskIsLoggedOnceCountedAndFailsHealthUntilItHasRoomAgain() async throws {
        let setup = try await AgentDaemonTests.Setup()
        let disk = try await SmallDisk(at: setup.directory + "/disk", kilobytes: 512)
        let config = try String(contentsOfFile: setup.directory + "/agent.yaml", encoding: .utf8)
        try setup.write(config: config.replacingOccurrences(of: "spool: spool", with: "spool: disk/spool"))
        let agent = try setup.startAgent()
        let port = try await agent.agentListenPort()
        let reporting = await eventually { setup.receivedIDs.count >= 2 || agent.exitStatus != nil }
        try #require(reporting && agent.exitStatus == nil, "\(agent.log)")

        try await disk.fill()
        var health: (status: Int, body: String)?
        var metrics = ""
        let failing = await eventually {
            // The spool may have held a batch file when the disk filled, deleted once delivered.
            try? await disk.fill()
            health = await onThread { RawHTTPClient.get("/health", port: port) }
            metrics = await onThread { RawHTTPClient.get("/metrics", port: port) }?.body ?? ""
            return health?.status == 503 && metrics.contains(#"sonda_faults_total{cause="spool_write"} "#)
                && !metrics.contains(#"sonda_faults_total{cause="spool_write"} 1"#)
        }
        #expect(failing, "several writes failed: \(health?.body ?? "")\n\(metrics)")
        #expect(health?.body.contains(#""status":"failing""#) == true, "\(health?.body ?? "")")
        #expect(health?.body.contains(#""cause":"spool_write""#) == true, "\(health?.body ?? "")")
        #expect(health?.body.contains("No space left on device") == true, "\(health?.body ?? "")")
        let lost = metrics.split(separator: "\n").first { $0.hasPrefix("sonda_spool_unwritten_total ") }
        #expect((lost.flatMap { Double($0.split(separator: " ")[1]) } ?? 0) > 0, "lost results are counted: \(metrics)")
        // Logged once per episode, not per failed write: a batch file the reporter delivers and
        // deletes can free room for a moment, which ends one episode (a recovery line) and the
        // next failed write starts another.
        // The log is read while the agent runs, so the last episode may have just recovered too:
        // what must hold is that failures and recoveries alternate, starting with a failure.
        let lines = agent.log.split(separator: "\n").filter {
            $0.contains("spool_write: cannot spool") || $0.contains("spool_write: recovered")
        }
        let alternate = lines.enumerated().allSatisfy { i, line in
            line.contains(i % 2 == 0 ? "spool_write: cannot spool" : "spool_write: recovered")
        }
        #expect(!lines.isEmpty && alternate, "logged once per episode:\n\(agent.log)")

        try disk.free()
        let recovered = await eventually {
            await onThread { RawHTTPClient.get("/health", port: port) }?.body == #"{"status":"ok"}"# + "\n"
        }
        #expect(recovered, "\(agent.log)")
        #expect(agent.log.contains("spool_write: recovered after"), "\(agent.log)")
        let since = Date()
        #expect(await eventually { setup.receivedStarts.contains { $0.startedAt > since } }, "results flow again")
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        disk.unmount()
    }
}

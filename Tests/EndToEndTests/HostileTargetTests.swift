import Foundation
import TestSupport
import Testing

/// `sonda-agent probe --check` against each hostile server of `faults/hostile-target.py`: the
/// documented error code, within the check's timeout, and a result that is valid JSON although the
/// server sent bytes that are not UTF-8. (`HostileTargetFaultScenarios` runs the same checks in the
/// daemon, beside well-behaved ones.) A result within 2 s, from servers that send at a set pace,
/// is an assertion on time: the suite runs in `make test`'s serial phase (Makefile, TIMING_SUITES).
@Suite struct HostileTargetTests {
    static let timeoutMilliseconds = 2000.0

    @Test(arguments: HostileCheck.all)
    func endsWithTheRightErrorWithinItsTimeout(_ check: HostileCheck) async throws {
        let directory = NSTemporaryDirectory() + "sonda-hostile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = try await HostileTarget(directory: directory)
        let line = try check.yaml(target: target, interval: "10s", timeout: "\(Int(Self.timeoutMilliseconds))ms")
        try "checks:\n  - \(line)\n".write(toFile: "\(directory)/checks.yaml", atomically: true, encoding: .utf8)

        let run = try await AgentCLI.run(
            "probe", "--config", "\(directory)/checks.yaml", "--check", check.name, "--json")
        let result = try #require(
            try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
            "one JSON result: \(run.stdout)\(run.stderr)")
        let error = result["error"] as? [String: Any]
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(error?["code"] as? String == check.code, "\(run.stdout)")
        let total = try #require((result["phases_ms"] as? [String: Any])?["total"] as? Double)
        // libcurl checks its deadline between reads: it may overshoot by a few milliseconds.
        #expect(total <= Self.timeoutMilliseconds + 100, "ended within its timeout: \(run.stdout)")
    }

    /// A body announced larger than the limit fails at once, unread (it was read at the server's
    /// pace until the limit or the timeout: over 1 MiB/s, a timeout).
    @Test func aBodyAnnouncedTooLargeIsNotRead() async throws {
        let directory = NSTemporaryDirectory() + "sonda-hostile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = try await HostileTarget(directory: directory)
        let run = try await AgentCLI.run("probe", target.url("huge-body"), "--json", "--timeout", "60s")
        let result = try #require(try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let error = try #require(result["error"] as? [String: Any], "\(run.stdout)")
        #expect(error["code"] as? String == "body_too_large")
        #expect(
            (error["message"] as? String)?.contains("announced (Content-Length) over the limit") == true,
            "\(run.stdout)")
        #expect((result["http"] as? [String: Any])?["body_bytes"] as? Int == 0, "\(run.stdout)")
        // A HEAD's Content-Length is the size of a body that never comes: no error for it.
        let head = try await AgentCLI.run(
            "probe", target.url("huge-body"), "--json", "--method", "HEAD", "--timeout", "60s")
        #expect(head.stdout.contains(#""error":null"#), "\(head.stdout)")
    }
}

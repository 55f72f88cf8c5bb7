import Foundation
import TestSupport
import Testing

/// `probe --profile`, `--har`, `sonda-agent profiles` and bad profile input, through the binary.
@Suite(.serialized) struct ProfileCommandTests {
    @Test func profilesSideBySideWithAMedianWaterfallAndAHARFile() async throws {
        let lab = try TLSLab.shared()
        let har = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-\(UUID()).har").path
        defer { try? FileManager.default.removeItem(atPath: har) }
        let run = try await AgentCLI.run(
            "probe", lab.url("tls13", "/small.txt"), "--ca-file", lab.ca, "--profile", "none,Cable", "--count", "2",
            "--budget", "5s", "--har", har)
        #expect(run.status == 0, "\(run.stderr)")
        for text in ["none 2/2 ok · Cable 2/2 ok", "median run · Cable", "budget Cable: p95 total", "p50", "p95"] {
            #expect(run.stdout.contains(text), "missing '\(text)' in:\n\(run.stdout)")
        }
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: har)))
        let log = try #require((document as? [String: Any])?["log"] as? [String: Any])
        #expect(log["version"] as? String == "1.2")
        let entries = try #require(log["entries"] as? [[String: Any]])
        #expect(entries.count == 4)
        for entry in entries {
            let timings = try #require(entry["timings"] as? [String: Any])
            for key in ["dns", "connect", "ssl", "send", "wait", "receive"] { #expect(timings[key] is Double || timings[key] is Int, "\(key)") }
            for key in ["startedDateTime", "time", "request", "response", "cache"] { #expect(entry[key] != nil, "\(key)") }
        }
        // Cable's connect (HAR's includes ssl) pays two 28 ms round trips; none's does not.
        let connects = entries.compactMap { ($0["timings"] as? [String: Any])?["connect"] as? Double }
        #expect(connects.filter { $0 > 56 }.count == 2, "\(connects)")
    }

    @Test func overTheBudgetUnderASlowProfileExitsTwo() async throws {
        let lab = try TLSLab.shared()
        let run = try await AgentCLI.run(
            "probe", lab.url("tls13", "/small.txt"), "--ca-file", lab.ca, "--profile", "none,Cable", "--budget", "50ms")
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("budget Cable: p95 total") && run.stdout.contains("over budget"))
    }

    @Test func unknownProfileSuggestsTheNearestName() async throws {
        let run = try await AgentCLI.run("probe", "https://localhost:1/", "--profile", "desktop_brazil,3g")
        #expect(run.status == 64)
        #expect(run.stderr.contains("unknown profile '3g' (did you mean '3G'?)"), "\(run.stderr)")
    }

    @Test func badUserProfileFileIsAConfigError() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
        try "profiles:\n  - {name: slow, rtt: 20s, down_kbps: 0}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await AgentCLI.run("probe", "https://localhost:1/", "--profiles", path, "--profile", "slow")
        #expect(run.status == 78)
        #expect(run.stderr.contains("rtt of profile 'slow' must be at most 10s"), "\(run.stderr)")
        #expect(run.stderr.contains("down_kbps of profile 'slow' must be more than 0"), "\(run.stderr)")
    }

    @Test func profilesListsBuiltInAndUserProfiles() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("own-\(UUID()).yaml").path
        try "profiles:\n  - {name: clinic_wifi, rtt: 45ms, down_kbps: 8000, up_kbps: 2000, source: measured}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await AgentCLI.run("profiles", "--profiles", path)
        #expect(run.status == 0, "\(run.stderr)")
        for text in ["3G", "300 ms", "1.6 Mbit/s", "vivo_4g", "mobile_3g_brazil", "clinic_wifi", "8 Mbit/s", "measured"] {
            #expect(run.stdout.contains(text), "missing '\(text)' in:\n\(run.stdout)")
        }
    }

    @Test func lossIsAColumnAndABadLossIsAConfigError() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loss-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "profiles:\n  - {name: flaky_wifi, rtt: 45ms, down_kbps: 8000, loss: 1.5%, source: measured}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let listed = try await AgentCLI.run("profiles", "--profiles", path)
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.first?.contains("loss") == true, "\(listed.stdout)")
        #expect(lines.contains { $0.hasPrefix("flaky_wifi") && $0.contains("1.5 %") }, "\(listed.stdout)")
        #expect(lines.contains { $0.hasPrefix("3G ") && $0.contains("–") && !$0.contains("%") }, "\(listed.stdout)")

        try "profiles:\n  - {name: flaky_wifi, rtt: 45ms, loss: 60%}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let run = try await AgentCLI.run("probe", "https://localhost:1/", "--profiles", path, "--profile", "flaky_wifi")
        #expect(run.status == 78)
        let message = "loss of profile 'flaky_wifi' must be from 0% to below 50%, got 60%"
        #expect(run.stderr.contains("\(path):2:41: error: \(message)"), "\(run.stderr)")
    }
}

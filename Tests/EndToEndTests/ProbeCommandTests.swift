import Foundation
import TestSupport
import Testing

@Suite struct ProbeCommandTests {
    @Test func waterfallForAGoodHost() async throws {
        let lab = try TLSLab.shared()
        let run = try await AgentCLI.run("probe", lab.url("tls13", "/small.txt"), "--ca-file", lab.ca)
        #expect(run.status == 0, "\(run.stderr)")
        for word in ["HTTP/1.1 200", "2048 B", "TLSv1.3", "verified", "dns", "connect", "tls", "wait", "total", "OK"] {
            #expect(run.stdout.contains(word), "missing '\(word)' in:\n\(run.stdout)")
        }
        #expect(!run.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        #expect(run.stderr.isEmpty)
    }

    @Test func jsonLinesHaveTheDesignShape() async throws {
        let lab = try TLSLab.shared()
        let run = try await AgentCLI.run("probe", lab.url("tls13"), "--ca-file", lab.ca, "--count", "3", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.lines.count == 3)
        var ids = Set<String>()
        for line in run.lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == [
                "id", "check", "step", "agent", "region", "profile", "class", "started_at", "ok", "error",
                "phases_ms", "http", "tls", "assertions", "budget",
            ])
            #expect(object["ok"] as? Bool == true)
            let phases = try #require(object["phases_ms"] as? [String: Double])
            #expect(Set(phases.keys) == ["dns", "connect", "tls", "send", "wait", "receive", "total"])
            let sum = phases.filter { $0.key != "total" }.values.reduce(0, +)
            #expect(abs(sum - phases["total"]!) < 0.01)
            let tls = try #require(object["tls"] as? [String: Any])
            #expect(tls["version"] as? String == "TLSv1.3")
            ids.insert(try #require(object["id"] as? String))
        }
        #expect(ids.count == 3)
    }

    @Test func failedProbeExitsOneWithTheErrorCode() async throws {
        let lab = try TLSLab.shared()
        let run = try await AgentCLI.run("probe", lab.url("tls12"), "--ca-file", lab.ca, "--json")
        #expect(run.status == 1)
        #expect(run.stdout.contains(#""code":"tls_version""#))
        let human = try await AgentCLI.run("probe", lab.url("tls12"), "--ca-file", lab.ca)
        #expect(human.stdout.contains("FAILED tls_version: server negotiated TLSv1.2; policy requires TLSv1.3"))
        let allowed = try await AgentCLI.run("probe", lab.url("tls12"), "--ca-file", lab.ca, "--tls-min", "1.2")
        #expect(allowed.status == 0)
    }

    @Test func overBudgetExitsTwo() async throws {
        let lab = try TLSLab.shared()
        let run = try await AgentCLI.run("probe", lab.url("tls13", "/delay/50"), "--ca-file", lab.ca, "--budget", "10ms")
        #expect(run.status == 2, "\(run.stdout)")
        #expect(run.stdout.contains("OVER BUDGET"))
        let many = try await AgentCLI.run(
            "probe", lab.url("tls13", "/delay/50"), "--ca-file", lab.ca, "--budget", "10ms", "--count", "3")
        #expect(many.status == 2)
        #expect(many.stdout.contains("over budget"))
        let within = try await AgentCLI.run("probe", lab.url("tls13"), "--ca-file", lab.ca, "--budget", "5s", "--json")
        #expect(within.status == 0)
        #expect(within.stdout.contains(#""budget":{"limit_ms":5000,"ok":true,"phase":"total"}"#))
    }

    @Test func countPrintsPercentilesPerPhase() async throws {
        let lab = try TLSLab.shared()
        let run = try await AgentCLI.run("probe", lab.url("http", "/delay/10"), "--count", "5")
        #expect(run.status == 0)
        #expect(run.stdout.contains("5 probes · 5 ok"))
        #expect(run.stdout.contains("p50") && run.stdout.contains("p95") && run.stdout.contains("max"))
        let waitLine = try #require(run.lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("wait") })
        let p50 = try #require(Double(waitLine.split(separator: " ")[1]))
        #expect(p50 > 8 && p50 < 30, "\(waitLine)")
    }

    @Test func tlsSchemeRunsAHandshakeOnly() async throws {
        let lab = try TLSLab.shared()
        let run = try await AgentCLI.run("probe", "tls://localhost:\(lab.port("tls13"))", "--ca-file", lab.ca, "--json")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains(#""http":null"#))
        #expect(run.stdout.contains(#""version":"TLSv1.3""#))
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var status: Int32
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        BadInput(arguments: ["probe", "not a url"], status: 64, message: "is not a URL"),
        BadInput(arguments: ["probe", "ftp://example.com/"], status: 64, message: "unsupported scheme 'ftp'"),
        BadInput(arguments: ["probe", "https://x.invalid/", "--frobnicate"], status: 64, message: "Unknown option '--frobnicate'"),
        BadInput(arguments: ["probe", "https://x.invalid/", "--ca-file", "/nonexistent/ca.pem"], status: 78, message: "cannot read CA file '/nonexistent/ca.pem'"),
        BadInput(arguments: ["probe", "https://x.invalid/", "--count=-2"], status: 64, message: "--count must be at least 1"),
        BadInput(arguments: ["probe", "https://x.invalid/", "--timeout", "soon"], status: 64, message: "--timeout"),
        BadInput(arguments: ["probe", "https://x.invalid/", "--tls-min", "1.1"], status: 64, message: "--tls-min must be 1.2 or 1.3"),
        BadInput(arguments: ["probe", "tls://x.invalid"], status: 64, message: "needs a port"),
        BadInput(arguments: ["probe", "https://x.invalid/", "--header", "nocolon"], status: 64, message: "'Name: value'"),
    ])
    func badInputGetsOneClearLineAndTheRightExitCode(_ bad: BadInput) async throws {
        let run = try await AgentCLI.run(bad.arguments)
        #expect(run.status == bad.status)
        #expect(run.stderr.contains(bad.message), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "one line, no usage dump or stack trace:\n\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }
}

import Foundation
import TestSupport
import Testing

/// The built `sonda-aggregator`: `silence add`, `silence list` and `alerts` against `serve` with the
/// evaluator running, then a SIGTERM that stops it cleanly.
@Suite(.serialized) struct AlertCommandTests {
    static let binary = TLSLab.builtBinary("sonda-aggregator")

    static func cli(_ arguments: String...) async throws -> ChildProcess.Output {
        try await ChildProcess.run(binary, arguments)
    }

    @Test func silencesAndAlertsThroughTheCommandLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sonda-alerts-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        listen: 127.0.0.1:0
        database: sonda.sqlite
        read_tokens: [s3cret]
        alerting:
          evaluate_every: 200ms
          receivers: [{name: am, alertmanager: {url: "http://127.0.0.1:9093"}}]
          routes: [{receiver: am}]
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let validate = try await Self.cli("validate", "\(directory)/aggregator.yaml")
        #expect(validate.stdout.contains("alerts every 200ms to 1 receivers"), "\(validate.stdout)\(validate.stderr)")

        let aggregator = try BackgroundProcess(
            Self.binary, ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"])
        let server = "http://127.0.0.1:\(try await aggregator.port(writtenTo: "\(directory)/port"))"

        let added = try await Self.cli(
            "silence", "add", "--server", server, "--token", "s3cret", "--matcher", "check=booking", "--for", "2h",
            "--comment", "deploy")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.lines.first?.hasPrefix("id        matchers       from") == true, "\(added.stdout)")
        #expect(added.stdout.contains("check=booking") && added.stdout.contains("deploy"))
        let listed = try await Self.cli("silence", "list", "--server", server, "--token", "s3cret", "--json")
        #expect(listed.stdout.contains(#""matchers":{"check":"booking"}"#), "\(listed.stdout)")
        let refused = try await Self.cli(
            "silence", "add", "--server", server, "--token", "s3cret", "--matcher", "check=x", "--for", "forever")
        #expect(
            refused.status == 1 && refused.stderr.contains("400: 'duration' must be a duration"), "\(refused.stderr)")
        let usage = try await Self.cli("silence", "add", "--server", server, "--matcher", "booking", "--for", "2h")
        #expect(usage.status == 64 && usage.stderr.contains("LABEL=VALUE"), "\(usage.stderr)")

        try await Task.sleep(for: .milliseconds(500))
        let alerts = try await Self.cli("alerts", "--server", server, "--token", "s3cret")
        #expect(alerts.status == 0 && alerts.stdout.hasPrefix("no alerts\n"), "\(alerts.stdout)\(alerts.stderr)")
        #expect(alerts.stdout.contains("am        alertmanager     0       0"), "delivery per receiver: \(alerts.stdout)")
        let unauthorized = try await Self.cli("alerts", "--server", server, "--token", "wrong")
        #expect(unauthorized.status == 1 && unauthorized.stderr.contains("401"), "\(unauthorized.stderr)")

        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "the evaluator stops on SIGTERM: \(aggregator.log)")
        let audit = try await Self.cli("audit", "verify", "--database", "\(directory)/sonda.sqlite")
        #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
    }
}

import Foundation
import SondaConfig
import Testing

@Suite struct AlertConfigTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/aggregator").path

    @Test func everyAlertingKeyIsRead() throws {
        var loader = AggregatorConfigLoader(environment: [
            "SONDA_WEBHOOK_SECRET": "s3cret", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X",
        ])
        let loaded = loader.load(path: Self.fixtures + "/alerting.yaml")
        let a = try #require(loaded, "\(loader.diagnostics)").alerting
        #expect(a.evaluateEvery == .seconds(10) && a.downQuorum == 3 && a.downFor == 4)
        #expect(a.silentAfter == 5 && a.heartbeatInterval == .seconds(30))
        #expect(a.budgetWindow == .seconds(1800) && a.budgetMinSamples == 50)
        #expect(a.certWarning == .seconds(30 * 86_400) && a.certCritical == .seconds(10 * 86_400))
        #expect(a.renotify[.critical] == .seconds(300) && a.renotify[.low] == .seconds(12 * 3600))
        #expect(a.renotify[.high] == .seconds(3600), "severities not written keep the seeds' default")
        #expect(a.externalURL == "https://sonda.example.com.br")
        #expect(a.receivers.map(\.name) == ["am", "ops", "chat"])
        guard case .webhook(let url, let secret) = a.receivers[1].kind, case .slack(let slack) = a.receivers[2].kind
        else {
            Issue.record("receiver kinds")
            return
        }
        #expect(url == "https://hooks.example/sonda" && secret == "s3cret")
        #expect(slack == "https://hooks.slack.com/services/T/B/X")
        #expect(a.routes.map(\.receiver) == ["am", "ops", "chat"])
        #expect(a.routes[0].severities == [.critical, .high] && a.routes[2].severities == nil)
        #expect(a.routes[1].matchers == ["alertname": "SondaAgentSilent"])
    }

    @Test func withoutAnAlertingSectionTheSeedsDefaultsHold() throws {
        var loader = AggregatorConfigLoader(environment: [:])
        let loaded = loader.load(path: Self.fixtures + "/aggregator.yaml")
        let config = try #require(loaded, "\(loader.diagnostics)")
        #expect(config.alerting.downQuorum == 2 && config.alerting.downFor == 2)
        #expect(config.alerting.renotify[.critical] == .seconds(900) && config.alerting.receivers.isEmpty)
    }

    @Test func everyAlertingProblemIsReportedWithItsPosition() {
        var loader = AggregatorConfigLoader(environment: [:])
        #expect(loader.load(path: Self.fixtures + "/alerting-bad.yaml") == nil)
        let messages = loader.diagnostics.map { "\($0.line):\($0.column): \($0.message)" }
        #expect(
            messages == [
                "3:3: unknown key 'evaluate_evry' in 'alerting' (did you mean 'evaluate_every'?)",
                "4:18: 'quorum' must be a whole number from 1 to 1000, got '0'",
                "4:26: 'for' must be a whole number from 1 to 100, got '0'",
                "5:40: cert_expiry 'critical' (21d) must be shorter than 'warning' (7d)",
                "7:38: 'url' must be an http:// or https:// URL, got 'ftp://127.0.0.1:9093'",
                "8:14: receiver 'am' is defined twice",
                "9:57: a receiver has one kind, this one has webhook and slack",
                "10:7: a receiver needs one of alertmanager, webhook or slack",
                "12:19: unknown severity 'critcal'; one of critical, high, medium, low (did you mean 'critical'?)",
                "13:18: route names unknown receiver 'chatt'",
            ], "\(messages)")
    }

    @Test func anUnsetSecretIsReportedWithoutItsValue() {
        var loader = AggregatorConfigLoader(environment: ["SLACK_WEBHOOK_URL": "not-a-url-token-123"])
        let path = NSTemporaryDirectory() + "alerting-\(UUID().uuidString).yaml"
        try? """
        alerting:
          receivers: [{name: chat, slack: {url: "${env:SLACK_WEBHOOK_URL}"}}]
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(loader.load(path: path) == nil)
        let text = loader.diagnostics.map(\.description).joined(separator: "\n")
        #expect(text.contains("2:41: error: 'url' must be an http:// or https:// URL (from ${env:SLACK_WEBHOOK_URL})"))
        #expect(!text.contains("not-a-url-token-123"))
    }
}

import Foundation

/// The `alerting:` section of aggregator.yaml: how often rules run, their thresholds, where
/// notifications go. Every field has the default DESIGN.md and the seeds ask for.
public struct AlertingConfig: Sendable {
    public enum Severity: String, Sendable, CaseIterable, Codable, Comparable {
        case critical, high, medium, low

        /// critical < high < medium < low: sorting puts the most urgent first.
        public static func < (a: Severity, b: Severity) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Where notifications go. Secrets (webhook secret, Slack URL) come through `${env:}` or
    /// `${file:}` and are never printed.
    public struct Receiver: Sendable {
        public enum Kind: Sendable {
            /// Prometheus Alertmanager's base URL; alerts are POSTed to `<url>/api/v2/alerts`.
            case alertmanager(url: String)
            /// A generic JSON webhook; with a secret, each body is signed with HMAC-SHA256.
            case webhook(url: String, secret: String?)
            /// A Slack incoming-webhook URL.
            case slack(url: String)
        }

        public var name: String
        public var kind: Kind

        public init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
        }
    }

    /// One routing rule; the first whose conditions all hold picks the receiver.
    public struct Route: Sendable {
        /// nil: any severity.
        public var severities: Set<Severity>?
        /// Label equality conditions (`alertname: SondaDown`); empty: any alert.
        public var matchers: [String: String]
        public var receiver: String

        public init(severities: Set<Severity>? = nil, matchers: [String: String] = [:], receiver: String) {
            self.severities = severities
            self.matchers = matchers
            self.receiver = receiver
        }
    }

    public var evaluateEvery: Duration = .seconds(15)
    /// How long a notification is retried before it counts as expired (`delivery_expiry`).
    public var deliveryExpiry: Duration = .seconds(24 * 3600)
    /// `down`: this many regions/agents failing (or all, when fewer report) …
    public var downQuorum: Int = 2
    /// … for this many consecutive results of the check.
    public var downFor: Int = 2
    /// An agent is silent after this many heartbeat intervals without a batch or heartbeat.
    public var silentAfter: Int = 3
    public var heartbeatInterval: Duration = .seconds(60)
    /// `budget`: the window budget cells are evaluated over.
    public var budgetWindow: Duration = .seconds(3600)
    /// `budget`: cells with fewer successful samples than this do not alert.
    public var budgetMinSamples: Int = 20
    /// `cert_expiry`: under this → high; under `certCritical` → critical.
    public var certWarning: Duration = .seconds(21 * 86_400)
    public var certCritical: Duration = .seconds(7 * 86_400)
    /// How often a still-firing alert is sent again, per severity.
    public var renotify: [Severity: Duration] = [
        .critical: .seconds(15 * 60), .high: .seconds(3600), .medium: .seconds(4 * 3600), .low: .seconds(24 * 3600),
    ]
    /// The status page's public URL, for Alertmanager's generatorURL and links in messages.
    public var externalURL: String?
    public var receivers: [Receiver] = []
    public var routes: [Route] = []

    public init() {}
}

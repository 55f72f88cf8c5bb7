import Foundation
import SondaConfig

/// One alert as receivers see it: Alertmanager's shape (labels, annotations, startsAt, endsAt,
/// generatorURL) plus Sonda's fingerprint and status.
public struct AlertNotification: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable { case firing, resolved }

    /// Stable per alert: the same labels always give the same fingerprint.
    public var fingerprint: String
    public var status: Status
    /// `alertname`, `severity`, and `check`, `class`, `region`/`regions`, `profile`, `agent` where they apply.
    public var labels: [String: String]
    /// `summary` always; `description` where there is more to say.
    public var annotations: [String: String]
    public var startsAt: Date
    /// Set once resolved.
    public var endsAt: Date?
    public var generatorURL: String

    public init(
        fingerprint: String, status: Status, labels: [String: String], annotations: [String: String],
        startsAt: Date, endsAt: Date? = nil, generatorURL: String
    ) {
        self.fingerprint = fingerprint
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
    }

    public var severity: AlertingConfig.Severity? {
        labels["severity"].flatMap(AlertingConfig.Severity.init(rawValue:))
    }
}

/// What one evaluation hands to delivery. Silenced alerts are in none of the lists.
public struct AlertRound: Sendable {
    public var at: Date
    /// Every alert firing now. Alertmanager wants these re-sent regularly, or it resolves them.
    public var firing: [AlertNotification]
    /// Alerts that started firing or resolved in this round: every receiver gets these once.
    public var changed: [AlertNotification]
    /// Still firing, and their severity's re-notify interval has passed since they were last sent.
    public var reminders: [AlertNotification]

    public init(at: Date, firing: [AlertNotification], changed: [AlertNotification], reminders: [AlertNotification]) {
        self.at = at
        self.firing = firing
        self.changed = changed
        self.reminders = reminders
    }
}

/// Takes each round's notifications to the receivers. `send` must return quickly: delivery,
/// retries and backoff happen in the background so a slow receiver never delays evaluation.
public protocol AlertSink: Sendable {
    /// The notifications to queue durably for a round, saved in the same transaction as the
    /// round's alert state (before `send`); none for a sink that keeps nothing.
    func notifications(for round: AlertRound) -> [Notification]
    /// Called once the round is saved.
    func send(_ round: AlertRound) async
}

extension AlertSink {
    public func notifications(for round: AlertRound) -> [Notification] { [] }
}

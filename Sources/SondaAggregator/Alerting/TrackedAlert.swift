import Foundation
import SondaConfig

/// One alert episode and its lifecycle: pending (the condition holds, its `for:` not yet met) →
/// firing → resolved. A pending alert whose condition lapses is dropped, never announced.
///
/// Resolving waits out a hold: a firing alert resolves only once its condition has been false for
/// `hold` (one evaluation period by default), so one good result between bad ones does not resolve
/// and re-fire the alert. Labels are frozen when the alert fires (Alertmanager identifies alerts by
/// their labels); the summary keeps up with what the rule sees.
public struct TrackedAlert: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable { case pending, firing, resolved }

    public enum Transition: String, Sendable { case fired, resolved, dropped }

    public var fingerprint: String
    public var labels: [String: String]
    public var summary: String
    public var description: String
    public var state: State
    /// When the condition first held: the episode's key, pending time included.
    public var activeSince: Date
    /// When it started firing.
    public var startsAt: Date?
    /// When its condition stopped holding, once resolved.
    public var endsAt: Date?
    /// When it was last handed to the receivers (nil: never announced).
    public var lastSent: Date?
    /// While firing: when the condition was first seen false since it last held.
    public var falseSince: Date?
    /// A silence matched it at the last evaluation.
    public var silenced: Bool = false

    public var severity: AlertingConfig.Severity {
        AlertingConfig.Severity(rawValue: labels["severity"] ?? "") ?? .low
    }

    init(_ condition: AlertCondition, at now: Date) {
        fingerprint = condition.fingerprint
        labels = condition.labels
        summary = condition.summary
        description = condition.description
        state = .pending
        activeSince = now
    }

    public init(
        fingerprint: String, labels: [String: String], summary: String, description: String = "", state: State,
        activeSince: Date, startsAt: Date? = nil, endsAt: Date? = nil, lastSent: Date? = nil, falseSince: Date? = nil,
        silenced: Bool = false
    ) {
        self.fingerprint = fingerprint
        self.labels = labels
        self.summary = summary
        self.description = description
        self.state = state
        self.activeSince = activeSince
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.lastSent = lastSent
        self.falseSince = falseSince
        self.silenced = silenced
    }

    /// The condition holds at `now`.
    mutating func hold(_ condition: AlertCondition, at now: Date) -> Transition? {
        falseSince = nil
        summary = condition.summary
        description = condition.description
        guard state == .pending else { return nil }
        labels = condition.labels
        guard condition.ready else { return nil }
        state = .firing
        startsAt = now
        return .fired
    }

    /// The condition does not hold at `now`. A firing alert resolves once it has not held for
    /// `hold`, or at once when `replaced` (the same alert at another severity took over).
    mutating func lapse(at now: Date, hold: Duration, replaced: Bool) -> Transition? {
        switch state {
        case .pending:
            return .dropped
        case .resolved:
            return nil
        case .firing:
            let since = falseSince ?? now
            falseSince = since
            guard replaced || now.timeIntervalSince(since) >= hold.intervalSeconds else { return nil }
            state = .resolved
            endsAt = since
            falseSince = nil
            return .resolved
        }
    }

    /// The notification receivers get for this alert.
    func notification(generatorURL: String) -> AlertNotification {
        var annotations = ["summary": summary]
        if !description.isEmpty { annotations["description"] = description }
        return AlertNotification(
            fingerprint: fingerprint, status: state == .resolved ? .resolved : .firing, labels: labels,
            annotations: annotations, startsAt: startsAt ?? activeSince, endsAt: state == .resolved ? endsAt : nil,
            generatorURL: generatorURL)
    }
}

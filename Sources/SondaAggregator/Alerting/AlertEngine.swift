import Foundation
import SondaConfig

/// The alert evaluator without I/O or a clock of its own: feed it results and heartbeats, call
/// `evaluate(at:)` every evaluation period with the time, and it returns what to persist and what
/// to send. `AlertService` drives it from the database; tests and the replay benchmark drive it
/// directly.
public struct AlertEngine: Sendable {
    public struct Options: Sendable {
        public var alerting: AlertingConfig
        /// The availability objective burn rates are measured against (0.999).
        public var objective: Double
        /// How long a firing alert's condition must stay false before it resolves; default one
        /// evaluation period.
        public var resolveHold: Duration
        /// Results the short burn-rate window needs before it can page.
        public var burnMinimumSamples: Int
        /// Where receivers link to (the status page).
        public var generatorURL: String

        public init(
            alerting: AlertingConfig = AlertingConfig(), objective: Double = 0.999, resolveHold: Duration? = nil,
            burnMinimumSamples: Int = 10, generatorURL: String? = nil
        ) {
            self.alerting = alerting
            self.objective = objective
            self.resolveHold = resolveHold ?? alerting.evaluateEvery
            self.burnMinimumSamples = burnMinimumSamples
            self.generatorURL = generatorURL ?? alerting.externalURL ?? "http://127.0.0.1:9470/"
        }
    }

    public struct Change: Sendable, Hashable {
        public var alert: TrackedAlert
        public var transition: TrackedAlert.Transition
    }

    /// One evaluation's outcome.
    public struct Evaluation: Sendable {
        public var round: AlertRound
        /// Alerts whose record changed (state, summary, last sent, silenced), resolved ones included.
        public var updated: [TrackedAlert]
        /// Pending alerts whose condition lapsed before they fired: nothing to keep.
        public var dropped: [TrackedAlert]
        public var changes: [Change]
    }

    public let options: Options
    var observations = FleetObservations()
    /// Pending and firing alerts by fingerprint.
    public private(set) var active: [String: TrackedAlert] = [:]
    var budgetCells: [BudgetReport.Cell] = []
    var burns: [BurnCounts] = []

    /// `restoring`: the pending and firing alerts saved before a restart.
    public init(options: Options, restoring: [TrackedAlert] = []) {
        self.options = options
        for alert in restoring where alert.state != .resolved { active[alert.fingerprint] = alert }
    }

    public mutating func add(_ result: ResultEvent) { observations.add(result) }

    public mutating func add(_ heartbeat: HeartbeatEvent) { observations.add(heartbeat) }

    /// An agent the configuration expects: if it never reports, it turns silent one silence window
    /// after `since`.
    public mutating func expect(agent: String, region: String, since: Date) {
        if observations.agents[agent] == nil {
            observations.add(HeartbeatEvent(agent: agent, region: region, at: since))
        }
    }

    public mutating func evaluate(at now: Date, rollups: RollupInputs = RollupInputs(), silences: [Silence] = [])
        -> Evaluation
    {
        observations.forgetStale(now: now)
        if let cells = rollups.budgetCells { budgetCells = cells }
        if let burns = rollups.burns { self.burns = burns }
        let context = RuleContext(
            now: now, config: options.alerting, observations: observations,
            firing: active.values.filter { $0.state == .firing })
        let conditions =
            DownRule.conditions(context) + AgentSilentRule.conditions(context) + TLSPolicyRule.conditions(context)
            + CertificateExpiryRule.conditions(context) + BudgetAlertRule.conditions(budgetCells, context)
            + BurnRateRule.conditions(
                burns, objective: options.objective, minimumSamples: options.burnMinimumSamples, context)
        let before = active
        var changes: [Change] = []
        var seen: Set<String> = []
        for condition in conditions {
            let fingerprint = condition.fingerprint
            guard seen.insert(fingerprint).inserted else { continue }
            var alert = active[fingerprint] ?? TrackedAlert(condition, at: now)
            if let t = alert.hold(condition, at: now) { changes.append(Change(alert: alert, transition: t)) }
            active[fingerprint] = alert
        }
        let identities = Set(conditions.map(\.identity))
        var finished: [TrackedAlert] = []
        var dropped: [TrackedAlert] = []
        for (fingerprint, var alert) in active where !seen.contains(fingerprint) {
            let identity = AlertFingerprint.of(alert.labels.filter { $0.key != "severity" })
            guard let t = alert.lapse(at: now, hold: options.resolveHold, replaced: identities.contains(identity))
            else {
                active[fingerprint] = alert
                continue
            }
            active[fingerprint] = nil
            changes.append(Change(alert: alert, transition: t))
            if t == .dropped { dropped.append(alert) } else { finished.append(alert) }
        }
        let live = silences.filter { $0.isActive(at: now) }
        var round = AlertRound(at: now, firing: [], changed: [], reminders: [])
        var updated: [TrackedAlert] = []
        for var alert in Array(active.values) + finished {
            alert.silenced = live.contains { $0.matches(alert.labels) }
            if !alert.silenced { announce(&alert, in: &round, at: now) }
            if alert.state == .resolved || before[alert.fingerprint] != alert { updated.append(alert) }
            if alert.state != .resolved { active[alert.fingerprint] = alert }
        }
        for list in [\AlertRound.firing, \.changed, \.reminders] { round[keyPath: list].sort(by: Self.order) }
        return Evaluation(round: round, updated: updated, dropped: dropped, changes: changes)
    }

    /// Dedup and re-notify: a firing alert is announced once, then again each time its severity's
    /// re-notify interval has passed; a resolution is announced if the firing was.
    private func announce(_ alert: inout TrackedAlert, in round: inout AlertRound, at now: Date) {
        let url = options.generatorURL
        switch alert.state {
        case .pending:
            return
        case .resolved:
            if alert.lastSent != nil { round.changed.append(alert.notification(generatorURL: url)) }
        case .firing:
            round.firing.append(alert.notification(generatorURL: url))
            if let last = alert.lastSent {
                let every = options.alerting.renotify[alert.severity] ?? .seconds(3600)
                guard now.timeIntervalSince(last) >= every.intervalSeconds else { return }
                round.reminders.append(alert.notification(generatorURL: url))
            } else {
                round.changed.append(alert.notification(generatorURL: url))
            }
            alert.lastSent = now
        }
    }

    static func order(_ a: AlertNotification, _ b: AlertNotification) -> Bool {
        (a.severity ?? .low, a.labels["alertname"] ?? "", a.fingerprint)
            < (b.severity ?? .low, b.labels["alertname"] ?? "", b.fingerprint)
    }
}

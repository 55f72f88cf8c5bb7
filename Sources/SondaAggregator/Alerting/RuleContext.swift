import Foundation
import SondaConfig

/// What every rule reads at one evaluation.
struct RuleContext {
    let now: Date
    let config: AlertingConfig
    let observations: FleetObservations
    /// The alerts firing before this evaluation (for the down rule's hysteresis).
    let firing: [TrackedAlert]

    /// Checks with SondaDown firing, and check × agent pairs with SondaDegraded firing.
    var firingDown: Set<String> {
        Set(firing.filter { $0.labels["alertname"] == "SondaDown" }.compactMap { $0.labels["check"] })
    }
    var firingDegraded: Set<FleetObservations.PairKey> {
        Set(
            firing.filter { $0.labels["alertname"] == "SondaDegraded" }.compactMap { a in
                a.labels["check"].flatMap { check in a.labels["agent"].map { .init(check: check, agent: $0) } }
            })
    }

    /// How long an agent may be unheard before it counts as silent.
    var silentWindow: TimeInterval { Double(config.silentAfter) * config.heartbeatInterval.intervalSeconds }

    func isSilent(_ agent: String) -> Bool {
        guard let seen = observations.agents[agent]?.lastSeen else { return false }
        return now.timeIntervalSince(seen) > silentWindow
    }

    func endpointClass(of check: String) -> String { observations.classes[check] ?? "" }

    /// alertname and severity, plus the given labels that are not empty.
    static func labels(_ name: String, _ severity: AlertingConfig.Severity, _ rest: [String: String]) -> [String:
        String]
    {
        var labels = rest.filter { !$0.value.isEmpty }
        labels["alertname"] = name
        labels["severity"] = severity.rawValue
        return labels
    }
}

/// Human durations for summaries: 45s, 12m, 3h20m, 6.0d.
func spoken(_ seconds: TimeInterval) -> String {
    let s = Int(seconds.rounded())
    if s < 120 { return "\(s)s" }
    if s < 7200 { return "\(s / 60)m" }
    if s < 2 * 86_400 { return "\(s / 3600)h\(s % 3600 / 60 == 0 ? "" : "\(s % 3600 / 60)m")" }
    return String(format: "%.1fd", seconds / 86_400)
}

import SondaConfig

/// `alerting.routes`, applied: the first route whose severities and label matchers all hold
/// names the receiver; an alert no route matches goes nowhere.
struct AlertRoutes: Sendable {
    let routes: [AlertingConfig.Route]

    func receiver(for alert: AlertNotification) -> String? {
        routes.first { route in
            if let severities = route.severities {
                guard let severity = alert.severity, severities.contains(severity) else { return false }
            }
            return route.matchers.allSatisfy { alert.labels[$0.key] == $0.value }
        }?.receiver
    }

    /// The alerts of `list` routed to each receiver, in their original order.
    func split(_ list: [AlertNotification]) -> [String: [AlertNotification]] {
        var out: [String: [AlertNotification]] = [:]
        for alert in list {
            guard let receiver = receiver(for: alert) else { continue }
            out[receiver, default: []].append(alert)
        }
        return out
    }
}

import Foundation
import SondaConfig
import SondaCore

/// What `/` shows, read in one database transaction: the header's fleet summary, then alerts,
/// the budget heatmap, uptime bars, agents and certificate expiry.
struct FleetPage {
    var budgets: BudgetReport
    var uptime: UptimeHistory
    var agents: [AgentStatus]
    var certificates: CertificateExpiry
    var alerts: [AlertNotification]
    var alertFailure: String?
    var regions: [String]

    func render(config: AggregatorConfig, links: StatusLinks, now: Date) -> String {
        let silentAfter =
            Double(config.alerting.silentAfter) * Double(config.alerting.heartbeatInterval.components.seconds)
        let agentTable = AgentTable(agents: agents, silentAfterSeconds: silentAfter)
        let alertList = AlertSection(alerts: alerts, now: now, failure: alertFailure, links: links)
        let warningDays = Double(config.alerting.certWarning.components.seconds) / 86_400
        let criticalDays = Double(config.alerting.certCritical.components.seconds) / 86_400
        let sloWindow = DurationParsing.format(config.slo.window)

        let heatmap = BudgetHeatmap(report: budgets, regions: regions, links: links)
        let grouped = heatmap.grouped
        let violated = grouped.values.filter { BudgetHeatmap.state(of: $0) == .violated }.count
        let degraded = grouped.values.filter { BudgetHeatmap.state(of: $0) == .degraded }.count
        let firing = alertList.firing
        let critical = firing.filter { $0.labels["severity"] == "critical" }.count
        let activeChecks = uptime.checks.filter { $0.last24Hours.total > 0 }
        let failing = activeChecks.filter {
            $0.hours.last.map { $0.state(slo: config.slo.availability) == .violated } ?? false
        }
        let expiring = certificates.entries.filter { $0.daysLeft(now: now) < warningDays }.count
        let tiles: [StatusPageLayout.Tile] = [
            .init(
                value: "\(agentTable.reporting) / \(agents.count)", label: "agents reporting",
                tone: agentTable.reporting < agents.count ? "bad" : "ok"),
            .init(
                value: "\(activeChecks.count)",
                label: failing.isEmpty ? "checks (24 h)" : "checks · \(failing.count) failing now",
                tone: failing.isEmpty ? "" : "bad"),
            .init(
                value: "\(firing.count)",
                label: critical > 0 ? "firing alerts · \(critical) critical" : "firing alerts",
                tone: critical > 0 ? "bad" : (firing.isEmpty ? "ok" : "deg")),
            .init(
                value: "\(violated) / \(grouped.count)",
                label: "budgets violated (\(budgets.window))\(degraded > 0 ? " · \(degraded) degraded" : "")",
                tone: violated > 0 ? "bad" : (degraded > 0 ? "deg" : "ok")),
            .init(
                value: "\(expiring)", label: "certificates under \(Int(warningDays)) d",
                tone: expiring > 0 ? "deg" : "ok"),
        ]
        let nav: HTML = """
            <nav class="pills"><a href="#alerts">alerts</a><a href="#budgets">budgets</a><a href="#uptime">uptime</a>\
            <a href="#agents">agents</a><a href="#certificates">certificates</a></nav>
            """
        let body =
            alertList.render() + heatmap.render()
            + UptimeBars(history: uptime, slo: config.slo.availability, sloWindow: sloWindow, links: links).render()
            + agentTable.render()
            + certificates.render(now: now, warningDays: warningDays, criticalDays: criticalDays)
        return StatusPageLayout.page(
            title: firing.isEmpty ? "Sonda status" : "(\(firing.count)) Sonda status",
            heading: "<h1>Sonda status</h1>\(nav)", tiles: tiles, body: body, generatedAt: now)
    }
}

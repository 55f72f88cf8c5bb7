import Foundation
import SondaConfig
import SondaCore

/// `budget`: a budget cell over the budget window with at least `min_samples` successful results,
/// violated → high, degraded (within 10 % of the limit) → low.
enum BudgetAlertRule {
    static func conditions(_ cells: [BudgetReport.Cell], _ c: RuleContext) -> [AlertCondition] {
        cells.compactMap { cell -> AlertCondition? in
            guard let limit = cell.limit, cell.count >= c.config.budgetMinSamples else { return nil }
            let severity: AlertingConfig.Severity
            switch cell.state {
            case .violated: severity = .high
            case .degraded: severity = .low
            default: return nil
            }
            let value =
                switch cell.quantile {
                case "p50": cell.p50
                case "p99": cell.p99
                default: cell.p95
                }
            let window = DurationParsing.format(c.config.budgetWindow)
            return AlertCondition(
                labels: RuleContext.labels(
                    "SondaBudgetViolated", severity,
                    ["region": cell.region, "profile": cell.profile, "class": cell.endpointClass, "phase": cell.phase]),
                summary: "\(cell.endpointClass) \(cell.quantile) \(cell.phase) \(ReportTables.ms(value)) against a "
                    + "\(ReportTables.ms(limit)) budget (\(cell.region), \(cell.profile)) is \(cell.state.rawValue)",
                description: "\(cell.count) successful results over \(window).")
        }
    }
}

/// `slo_burn`: the Google SRE workbook's multi-window burn-rate alerts. Burning over 14.4× the
/// allowed error rate over 1h and 5m → critical (2 % of a 30-day budget in an hour); over 6× over
/// 6h and 30m → high. The short window must hold `minimumSamples` results and two failures, so one
/// failed probe of a quiet check is not a page.
enum BurnRateRule {
    static func conditions(
        _ burns: [BurnCounts], objective: Double, minimumSamples: Int, _ c: RuleContext
    ) -> [AlertCondition] {
        burns.compactMap { b -> AlertCondition? in
            func enough(_ w: BurnCounts.Window) -> Bool { w.total >= minimumSamples && w.failed >= 2 }
            let (short, long): (BurnCounts.Window, BurnCounts.Window)
            let (severity, threshold): (AlertingConfig.Severity, Double)
            if enough(b.fiveMinutes), b.oneHour.burnRate(objective: objective) > 14.4,
                b.fiveMinutes.burnRate(objective: objective) > 14.4
            {
                (short, long, severity, threshold) = (b.fiveMinutes, b.oneHour, .critical, 14.4)
            } else if enough(b.thirtyMinutes), b.sixHours.burnRate(objective: objective) > 6,
                b.thirtyMinutes.burnRate(objective: objective) > 6
            {
                (short, long, severity, threshold) = (b.thirtyMinutes, b.sixHours, .high, 6)
            } else {
                return nil
            }
            let windows = severity == .critical ? ("1h", "5m") : ("6h", "30m")
            let endpointClass = b.endpointClass.isEmpty ? c.endpointClass(of: b.check) : b.endpointClass
            return AlertCondition(
                labels: RuleContext.labels(
                    "SondaSLOBurn", severity, ["check": b.check, "class": endpointClass, "region": b.region]),
                summary: "\(b.check) (\(b.region)) burns its error budget at "
                    + String(format: "%.1f× over ", long.burnRate(objective: objective)) + windows.0
                    + String(format: " and %.1f× over ", short.burnRate(objective: objective)) + windows.1
                    + String(format: " (threshold %g×)", threshold),
                description:
                    "\(long.failed) of \(long.total) results failed over \(windows.0); SLO \(objective * 100)%.")
        }
    }
}

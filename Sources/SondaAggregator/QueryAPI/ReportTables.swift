import Foundation

/// The CLI's aligned tables for the read API's answers; states coloured when `colour` is on.
public enum ReportTables {
    public static func budgets(_ report: BudgetReport, colour: Bool) -> String {
        let rows = report.cells.map { c -> [String] in
            [
                c.region, c.profile, c.endpointClass, c.phase, String(c.count), ms(c.p50), ms(c.p95), ms(c.p99),
                c.limit.map { "\(c.quantile) ≤ \(ms($0))" } ?? "-", c.state.rawValue,
            ]
        }
        let header = ["region", "profile", "class", "phase", "count", "p50", "p95", "p99", "budget", "state"]
        return "window \(report.window)\n" + table(header, rows, rightAligned: [4, 5, 6, 7], colour: colour)
    }

    public static func uptime(_ report: UptimeReport, colour: Bool) -> String {
        let rows = report.checks.map { e -> [String] in
            let burn: [String] = ["5m", "30m", "1h", "6h"].map { String(format: "%.1f", e.burnRates[$0] ?? 0) }
            return [
                e.check, e.region, String(e.total), String(e.failed),
                e.availability.map { String(format: "%.3f%%", $0 * 100) } ?? "-",
                String(format: "%.1f%%", e.errorBudgetLeft * 100),
                burn.joined(separator: " / "),
            ]
        }
        let header = ["check", "region", "total", "failed", "availability", "budget left", "burn 5m/30m/1h/6h"]
        return "window \(report.window) · SLO \(String(format: "%g", report.slo * 100))%\n"
            + table(header, rows, rightAligned: [2, 3, 4, 5], colour: false)
    }

    public static func agents(_ list: AgentStatus.List) -> String {
        let rows = list.agents.map { a -> [String] in
            [
                a.id, a.region, a.site ?? "-", a.lastSeen ?? "never",
                a.secondsSinceSeen.map(ago) ?? "-", a.version ?? "-",
                a.spoolDepth.map(String.init) ?? "-", a.dropped.map(String.init) ?? "-",
                a.quarantined.map(String.init) ?? "-", String(a.results),
            ]
        }
        let header = [
            "agent", "region", "site", "last seen", "ago", "version", "spool", "dropped", "quarantined", "results",
        ]
        return table(header, rows, rightAligned: [4, 6, 7, 8, 9], colour: false)
    }

    /// "42s", "12m", "5h", "3d": as precise as a person reading the table needs.
    static func ago(_ seconds: Double) -> String {
        switch seconds {
        case ..<90: String(format: "%.0fs", seconds)
        case ..<(90 * 60): String(format: "%.0fm", seconds / 60)
        case ..<(36 * 3600): String(format: "%.0fh", seconds / 3600)
        default: String(format: "%.0fd", seconds / 86_400)
        }
    }

    static func ms(_ value: Double?) -> String {
        guard let value else { return "-" }
        return value < 1000 ? String(format: "%.1f ms", value) : String(format: "%.2f s", value / 1000)
    }

    static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int>, colour: Bool) -> String {
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String], paint: Bool) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                let text = paint && i == cells.count - 1 ? painted(cell) : cell
                return rightAligned.contains(i) ? pad + text : (i == cells.count - 1 ? text : text + pad)
            }.joined(separator: "  ")
        }
        return ([line(header, paint: false)] + rows.map { line($0, paint: colour) }).joined(separator: "\n") + "\n"
    }

    static func painted(_ state: String) -> String {
        let code =
            switch state {
            case "ok": "32"
            case "degraded": "33"
            case "violated": "31"
            default: "2"
            }
        return "\u{1B}[\(code)m\(state)\u{1B}[0m"
    }
}

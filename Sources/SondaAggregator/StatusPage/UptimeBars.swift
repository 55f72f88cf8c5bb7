import Foundation

/// Per-check uptime bars: 24 hourly and 30 daily segments coloured by availability against the
/// SLO, and the error budget left over the SLO window. Checks with the least budget come first.
struct UptimeBars {
    var history: UptimeHistory
    var slo: Double
    var sloWindow: String
    var links: StatusLinks

    func render() -> HTML {
        var html: HTML = """
            <section id="uptime"><h2>Uptime <small>all regions · SLO \(StatusFormat.percent(slo)) over \(sloWindow) · \
            least error budget first</small></h2>
            """
        guard !history.checks.isEmpty else {
            return html + "<p class=\"empty\">No results in the last 30 days.</p></section>"
        }
        let checks = history.checks.sorted {
            ($0.errorBudgetLeft(slo: slo), $0.name) < ($1.errorBudgetLeft(slo: slo), $1.name)
        }
        html += "<div class=\"checks\">\(checks.map(card))</div>"
        html += """
            <p class="note">Segments: ✓ green at or above the SLO, amber below it (failures within 10× the allowance), \
            red below that, grey no probes. Hover a segment for its numbers.</p></section>
            """
        return html
    }

    func card(_ check: UptimeHistory.Check) -> HTML {
        let left = check.errorBudgetLeft(slo: slo)
        let budgetState: BudgetState = left <= 0 ? .violated : (left < 0.25 ? .degraded : .ok)
        let width = max(0, min(1, left)) * 100
        let colour =
            budgetState == .ok ? "var(--seg-ok)" : (budgetState == .degraded ? "var(--seg-deg)" : "var(--seg-bad)")
        let leftText =
            left <= 0
            ? "exhausted: \(String(format: "%.1f", 1 - left))× the failures the SLO allows"
            : "\(Int((left * 100).rounded(.down))) % left"
        let regions = check.regions.count
        let hourStart = Date(timeIntervalSince1970: Double(history.firstHour) * 3600)
        let dayStart = Date(timeIntervalSince1970: Double(history.firstDay) * 86_400)
        return """
            <div class="check" data-check="\(check.name)"><h3><a href="\(links.check(check.name))">\(check.name)</a>\
            <small>\(check.endpointClass)\(regions > 0 ? " · \(regions) region\(regions == 1 ? "" : "s")" : "")</small></h3>
            <div class="uptime"><span>24 h</span>\(bar(check.hours, start: hourStart, step: 3600, kind: "hours"))\
            <span class="num">\(StatusFormat.percent(check.last24Hours.availability))</span>\
            <span>30 d</span>\(bar(check.days, start: dayStart, step: 86_400, kind: "days"))\
            <span class="num">\(StatusFormat.percent(check.last30Days.availability))</span></div>
            <div class="meter" title="error budget left over \(sloWindow)"><i style="width:\(width)%;background:\(colour)"></i></div>
            <div class="labels">\(StateBadge.icon(budgetState)) error budget \(leftText) · \
            \(check.sloWindow.failed) failed of \(StatusFormat.count(check.sloWindow.total)) in \(sloWindow)</div></div>
            """
    }

    func bar(_ segments: [UptimeHistory.Counts], start: Date, step: Double, kind: String) -> HTML {
        let width = 10.0
        var rects: [HTML] = []
        for (i, counts) in segments.enumerated() {
            let state = counts.state(slo: slo)
            let from = start.addingTimeInterval(step * Double(i))
            let when =
                step < 86_400
                ? "\(StatusFormat.day(from)) \(StatusFormat.clock(from))–\(StatusFormat.clock(from.addingTimeInterval(step))) UTC"
                : "\(StatusFormat.day(from)) UTC"
            let detail =
                counts.total == 0
                ? "no probes"
                : "\(StatusFormat.percent(counts.availability)) · \(counts.failed) failed of \(counts.total)"
            rects.append(
                "<rect class=\"seg-\(state.rawValue)\" x=\"\(Double(i) * width)\" width=\"\(width - 1.5)\" height=\"18\" rx=\"1.5\"><title>\(when): \(detail)</title></rect>"
            )
        }
        let total = Double(segments.count) * width - 1.5
        return """
            <svg class="bar-\(kind)" viewBox="0 0 \(total) 18" preserveAspectRatio="none" role="img" \
            aria-label="\(kind) availability">\(rects)</svg>
            """
    }
}

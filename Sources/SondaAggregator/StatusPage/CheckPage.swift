import Foundation
import SondaCore

/// What `/checks/{name}` shows: phase percentiles over time (small multiples, one chart per
/// phase), the region × profile table against the budgets, error codes, and the latest failures.
struct CheckPage {
    var name: String
    var profile: String?
    var latency: CheckLatency
    var failures: CheckFailures
    var rules: [BudgetRule]

    struct Judged {
        var rule: BudgetRule?
        var value: Double?
        var state: BudgetState
    }

    /// The check's total-phase budget in a row: the most specific rule, judged on its quantile.
    func judge(_ row: CheckLatency.Slice) -> Judged {
        let rule = BudgetRule.applicable(
            rules, check: name, endpointClass: row.endpointClass, region: row.region, profile: row.profile
        ).first { $0.phase == .total }
        let value: Double? =
            switch rule?.quantile {
            case .p50: row.p50
            case .p99: row.p99
            default: row.p95
            }
        return Judged(
            rule: rule, value: value,
            state: BudgetState.judge(valueMilliseconds: value, limitMilliseconds: rule?.limit.milliseconds))
    }

    /// A phase's budget line, when every row shown has the same limit for it.
    func limit(for phase: PhaseTimings.Phase) -> Double? {
        let limits = Set(
            latency.slices.map { row in
                BudgetRule.applicable(
                    rules, check: name, endpointClass: row.endpointClass, region: row.region, profile: row.profile
                ).first { $0.phase == phase }?.limit.milliseconds
            })
        guard limits.count == 1, let only = limits.first else { return nil }
        return only
    }

    func render(links: StatusLinks, now: Date) -> String {
        let window = latency.bucketing.window
        let slices = latency.slices
        let total = slices.reduce(0) { $0 + $1.total }
        let failed = slices.reduce(0) { $0 + $1.failed }
        let availability = total > 0 ? 1 - Double(failed) / Double(total) : nil
        let classes = Set(slices.map(\.endpointClass)).sorted().joined(separator: ", ")
        let judged = slices.map(judge)
        let violated = judged.filter { $0.state == .violated }.count
        let tiles: [StatusPageLayout.Tile] = [
            .init(
                value: StatusFormat.percent(availability), label: "available (\(window))",
                tone: failed == 0 ? "ok" : (availability ?? 1 < 0.99 ? "bad" : "deg")),
            .init(value: "\(failed)", label: "failed of \(StatusFormat.count(total))", tone: failed > 0 ? "bad" : "ok"),
            .init(
                value: "\(violated) / \(slices.count)", label: "region × profile over budget",
                tone: violated > 0 ? "bad" : "ok"),
            .init(value: "\(Set(slices.map(\.region)).count)", label: "regions"),
        ]
        let windowPills: [HTML] = ["1h", "24h"].map { w in
            w == window ? "<b>\(w)</b>" : "<a href=\"\(links.check(name, window: w, profile: profile))\">\(w)</a>"
        }
        var profilePills: [HTML] = [
            profile == nil ? "<b>all profiles</b>" : "<a href=\"\(links.check(name, window: window))\">all profiles</a>"
        ]
        for p in latency.profiles {
            profilePills.append(
                p == profile ? "<b>\(p)</b>" : "<a href=\"\(links.check(name, window: window, profile: p))\">\(p)</a>")
        }
        let charts: [HTML] = latency.charted.map { phase in
            let points = latency.series[phase] ?? []
            return PhaseChart(
                phase: phase.rawValue, labels: latency.labels, p50: points.map(\.p50), p95: points.map(\.p95),
                limit: limit(for: phase)
            ).render()
        }
        let per = window == "1h" ? "per minute" : "per hour"
        var body: HTML = """
            <section id="chart"><h2>Phase latency <small>successful probes, \(per), \(profile ?? "all profiles")</small>\
            <span class="pills">\(windowPills)</span><span class="pills">\(profilePills)</span></h2>
            <div class="key"><span><i style="border-color:#0969da"></i>p50</span>\
            <span><i style="border-color:#bc4c00;border-top-style:dashed"></i>p95</span>\
            <span><i style="border-color:#a40e26;border-top-style:dotted"></i>budget</span></div>
            <div class="charts">\(charts)</div></section>
            """
        body += table(judged: judged)
        body += errorCodes()
        body += failures.render(now: now, window: window)
        let heading: HTML = """
            <h1><a href="\(links.fleet())">Sonda</a> / \(name)</h1><span class="meta">\(classes)</span>\
            <nav class="pills"><a href="\(links.fleet())">← fleet status</a></nav>
            """
        return StatusPageLayout.page(
            title: "\(name) · Sonda", heading: heading, tiles: tiles, body: body, generatedAt: now)
    }

    func table(judged: [Judged]) -> HTML {
        let window = latency.bucketing.window
        guard !latency.slices.isEmpty else {
            return
                "<section id=\"regions\"><h2>By region × profile</h2><p class=\"empty\">No results in the last \(window).</p></section>"
        }
        let rows: [HTML] = zip(latency.slices, judged).map { row, j in
            let budget: HTML =
                j.rule.map { "\($0.quantile.rawValue) ≤ \(StatusFormat.milliseconds($0.limit.milliseconds))" } ?? "–"
            let availability = row.total > 0 ? 1 - Double(row.failed) / Double(row.total) : nil
            return """
                <tr data-row="\(row.region) · \(row.profile)"><td>\(row.region)</td><td>\(row.profile)</td>\
                <td class="num">\(StatusFormat.count(row.samples))</td><td class="num">\(row.failed)</td>\
                <td class="num">\(StatusFormat.percent(availability))</td>\
                <td class="num">\(StatusFormat.milliseconds(row.p50))</td><td class="num">\(StatusFormat.milliseconds(row.p95))</td>\
                <td class="num">\(StatusFormat.milliseconds(row.p99))</td><td>\(budget)</td><td>\(StateBadge.badge(j.state))</td></tr>
                """
        }
        return """
            <section id="regions"><h2>By region × profile <small>total, successful probes, last \(window)</small></h2>
            <div class="scroll"><table><thead><tr><th>region</th><th>profile</th><th class="num">samples</th>\
            <th class="num">failed</th><th class="num">available</th><th class="num">p50</th><th class="num">p95</th>\
            <th class="num">p99</th><th>budget</th><th>state</th></tr></thead><tbody>\(rows)</tbody></table></div></section>
            """
    }

    func errorCodes() -> HTML {
        let errors = latency.errors.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        guard !errors.isEmpty else { return "" }
        let items: [HTML] = errors.map { code, n in "<span class=\"badge s-violated\">✕ \(code) × \(n)</span>" }
        return """
            <section id="errors"><h2>Error codes <small>last \(latency.bucketing.window)</small></h2>\
            <div class="legend">\(items)</div></section>
            """
    }
}

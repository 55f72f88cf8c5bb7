import Foundation
import SondaCore

extension ProbeReport {
    /// Several profiles of one target side by side: p50/p95 per phase per profile, the waterfall
    /// of each profile's median run (by total), and a budget verdict per profile.
    public func comparison(
        _ results: [ProbeResult], budget: LatencyBudget?, profileBudgets: [String: LatencyBudget] = [:]
    ) -> String {
        let groups = AdHocProbe.byProfile(results)
        let names = groups.map { $0.profile ?? "none" }
        let summaries = groups.map { PhaseSummary($0.results) }
        let width = max(11, (names.map(\.count).max() ?? 0) + 5)
        var lines = [style.bold(results.first?.url ?? "")]
        let counts = zip(names, summaries).map { name, summary in
            "\(name) \(summary.count)/\(summary.count + summary.failed) ok"
        }
        lines.append("  " + counts.joined(separator: " · "))
        lines.append("")
        var header = "  " + "phase".padding(8)
        var subheader = "  " + "".padding(8)
        for name in names {
            header += name.leftPadded(to: width * 2, with: " ")
            subheader += "p50".leftPadded(to: width, with: " ") + "p95".leftPadded(to: width, with: " ")
        }
        lines.append(header)
        lines.append(subheader)
        for phase in Self.phases + [.total] {
            guard summaries.contains(where: { $0.stats[phase] != nil }) else { continue }
            var line = "  " + phase.rawValue.padding(8)
            for summary in summaries {
                let stats = summary.stats[phase]
                line += (stats.map { ms($0.p50) } ?? "–").leftPadded(to: width, with: " ")
                line += (stats.map { ms($0.p95) } ?? "–").leftPadded(to: width, with: " ")
            }
            lines.append(line)
        }
        for (name, group) in zip(names, groups) {
            guard let median = Self.medianRun(group.results) else { continue }
            lines.append("")
            lines.append("  " + style.bold("median run · \(name)"))
            lines.append(waterfall(median).split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                .map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n"))
        }
        let failures = Dictionary(grouping: results.compactMap(\.error), by: \.code)
        if !failures.isEmpty {
            lines.append("")
            for (code, errors) in failures.sorted(by: { $0.value.count > $1.value.count }) {
                lines.append("  " + style.red("\(errors.count)× \(code.rawValue)") + ": \(errors[0].message)")
            }
        }
        let budgets = names.map { profileBudgets[$0] ?? budget }
        if budgets.contains(where: { $0 != nil }) { lines.append("") }
        for (name, (summary, budget)) in zip(names, zip(summaries, budgets)) {
            if let budget {
                let p95 = summary.stats[budget.phase]?.p95
                let text = "budget \(name): p95 \(budget.phase.rawValue) \(p95.map(ms) ?? "n/a") against \(ms(budget.limitMilliseconds))"
                lines.append(
                    "  " + (budget.isExceeded(by: summary) ? style.yellow(text + " — over budget") : style.green(text + " — within")))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The successful run with the median total (the lower middle one); a failed run when none succeeded.
    static func medianRun(_ results: [ProbeResult]) -> ProbeResult? {
        let ok = results.filter(\.ok).sorted { $0.phases.total < $1.phases.total }
        guard !ok.isEmpty else { return results.first }
        return ok[(ok.count - 1) / 2]
    }
}

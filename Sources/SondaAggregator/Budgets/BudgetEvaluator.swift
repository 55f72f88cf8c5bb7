import Foundation
import SondaCore

/// Computes the budget cells of a window from the minute rollups and the budget rules. A cell's
/// rule is the most specific rule for its class, region and profile (check-specific rules apply to
/// a check's own results, not to a cell of many checks).
public struct BudgetEvaluator: Sendable {
    public var rules: [BudgetRule]

    public init(rules: [BudgetRule]) {
        self.rules = rules
    }

    public func report(
        window: Duration, windowText: String, filter: CellFilter, now: Date, from store: any AggregatorStore
    ) async throws -> BudgetReport {
        // Only phases some rule limits (and total, for unbudgeted cells) are read.
        let phases = Set(rules.map(\.phase.rawValue) + ["total"]).sorted()
        let histograms = try await store.latencyHistograms(
            span: RollupSpan(window: window, now: now), filter: filter, phases: phases)
        var cells: [BudgetReport.Cell] = []
        for key in histograms.keys.sorted() {
            let phases = histograms[key]!
            let applicable = BudgetRule.applicable(
                rules, check: nil, endpointClass: key.endpointClass, region: key.region, profile: key.profile)
            if applicable.isEmpty {
                cells.append(cell(key, phase: "total", histogram: phases["total"], quantile: .p95, limit: nil))
            }
            for rule in applicable {
                let limit = rule.limit.milliseconds
                cells.append(
                    cell(key, phase: rule.phase.rawValue, histogram: phases[rule.phase.rawValue], quantile: rule.quantile,
                        limit: limit))
            }
        }
        return BudgetReport(window: windowText, cells: cells)
    }

    func cell(
        _ key: BudgetCellKey, phase: String, histogram: HistogramAccumulator?, quantile: BudgetRule.Quantile, limit: Double?
    ) -> BudgetReport.Cell {
        let h = histogram ?? HistogramAccumulator()
        let judged: Double? =
            switch quantile {
            case .p50: h.quantile(0.50)
            case .p95: h.quantile(0.95)
            case .p99: h.quantile(0.99)
            }
        return BudgetReport.Cell(
            region: key.region, profile: key.profile, endpointClass: key.endpointClass, phase: phase,
            count: Int(h.count), p50: h.quantile(0.50), p95: h.quantile(0.95), p99: h.quantile(0.99),
            quantile: quantile.rawValue, limit: limit,
            state: BudgetState.judge(valueMilliseconds: judged, limitMilliseconds: limit))
    }
}

import Foundation
import GRDB
import SondaCore

/// Computes the budget cells of a window from the minute rollups and the budget rules. A cell's
/// rule is the most specific rule for its class, region and profile (check-specific rules apply to
/// a check's own results, not to a cell of many checks).
public struct BudgetEvaluator: Sendable {
    public var rules: [BudgetRule]

    public init(rules: [BudgetRule]) {
        self.rules = rules
    }

    struct CellKey: Hashable, Comparable {
        var region: String
        var profile: String
        var endpointClass: String

        static func < (a: Self, b: Self) -> Bool {
            (a.region, a.profile, a.endpointClass) < (b.region, b.profile, b.endpointClass)
        }
    }

    public func report(
        window: Duration, windowText: String, filter: CellFilter, now: Date, in db: Database
    ) throws -> BudgetReport {
        let span = RollupSpan(window: window, now: now)
        let (condition, arguments) = filter.sql
        // Only phases some rule limits (and total, for unbudgeted cells) are read.
        let phases = Set(rules.map(\.phase.rawValue) + ["total"]).sorted()
        let phaseList = phases.map { "'\($0)'" }.joined(separator: ", ")
        var histograms: [CellKey: [String: HistogramAccumulator]] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT region, profile, class, phase, histogram FROM \(span.latencyTable)
                WHERE \(span.column) >= ?\(condition) AND phase IN (\(phaseList))
                """,
            arguments: [span.since] + arguments)
        while let row = try rows.next() {
            let key = CellKey(region: row[0], profile: row[1], endpointClass: row[2])
            let data: Data = row[4]
            histograms[key, default: [:]][row[3], default: HistogramAccumulator()].add(serialized: data)
        }
        // Cells that only failed in the window still appear, as no-data.
        let seen = try Row.fetchAll(
            db,
            sql: "SELECT DISTINCT region, profile, class FROM \(span.outcomeTable) WHERE \(span.column) >= ?\(condition)",
            arguments: [span.since] + arguments)
        for row in seen {
            let key = CellKey(region: row[0], profile: row[1], endpointClass: row[2])
            if histograms[key] == nil { histograms[key] = [:] }
        }
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
        _ key: CellKey, phase: String, histogram: HistogramAccumulator?, quantile: BudgetRule.Quantile, limit: Double?
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

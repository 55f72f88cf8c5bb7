import Foundation
import SondaConfig

/// `GET /v1/uptime`: per check per region, availability over the window, the error budget left
/// over the SLO window, and burn rates (the error rate as a multiple of what the SLO allows) over
/// 5m, 30m, 1h and 6h — the windows of the multi-window burn-rate alerts (14.4× over 1h+5m, 6× over
/// 6h+30m).
public struct UptimeReport: Codable, Sendable {
    public struct Entry: Codable, Sendable, Hashable {
        public var check: String
        public var region: String
        public var total: Int
        public var failed: Int
        /// nil when there were no results in the window.
        public var availability: Double?
        /// 1 is untouched, 0 spent, negative overspent; over the SLO window.
        public var errorBudgetLeft: Double
        public var burnRates: [String: Double]

        enum CodingKeys: String, CodingKey {
            case check, region, total, failed, availability
            case errorBudgetLeft = "error_budget_left"
            case burnRates = "burn_rates"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(check, forKey: .check)
            try c.encode(region, forKey: .region)
            try c.encode(total, forKey: .total)
            try c.encode(failed, forKey: .failed)
            try c.encode(availability, forKey: .availability)
            try c.encode(errorBudgetLeft, forKey: .errorBudgetLeft)
            try c.encode(burnRates, forKey: .burnRates)
        }
    }

    public var window: String
    public var slo: Double
    public var checks: [Entry]

    static let burnWindows: [(name: String, minutes: Int64)] = [("5m", 5), ("30m", 30), ("1h", 60), ("6h", 360)]

    struct Key: Hashable, Comparable {
        var check: String, region: String
        static func < (a: Key, b: Key) -> Bool { (a.check, a.region) < (b.check, b.region) }
    }
    struct Counts { var total = 0, failed = 0 }

    /// Counts outcomes from the rollups (minute rows for windows up to 6 h, hour rows beyond);
    /// `check` and `region` narrow the answer.
    public static func compute(
        window: Duration, windowText: String, slo: AggregatorConfig.Objective, check: String?, region: String?,
        now: Date, from store: any AggregatorStore
    ) async throws -> UptimeReport {
        func counts(_ span: RollupSpan) async throws -> [Key: Counts] {
            var counts: [Key: Counts] = [:]
            for row in try await store.outcomeCounts(span: span, check: check, region: region) {
                counts[Key(check: row.check, region: row.region)] = Counts(total: row.total, failed: row.failed)
            }
            return counts
        }
        let inWindow = try await counts(RollupSpan(window: window, now: now))
        let inSLO = try await counts(RollupSpan(window: slo.window, now: now))
        var burns: [String: [Key: Counts]] = [:]
        for (name, minutes) in burnWindows {
            burns[name] = try await counts(RollupSpan(window: .seconds(minutes * 60), now: now))
        }
        let allowed = 1 - slo.availability
        func errorRate(_ c: Counts?) -> Double {
            guard let c, c.total > 0 else { return 0 }
            return Double(c.failed) / Double(c.total)
        }
        let keys = Set(inWindow.keys).union(inSLO.keys).sorted()
        let entries = keys.map { key -> Entry in
            let counted = inWindow[key] ?? Counts()
            return Entry(
                check: key.check, region: key.region, total: counted.total, failed: counted.failed,
                availability: counted.total > 0 ? 1 - errorRate(counted) : nil,
                errorBudgetLeft: 1 - errorRate(inSLO[key]) / allowed,
                burnRates: Dictionary(uniqueKeysWithValues: burnWindows.map { ($0.name, errorRate(burns[$0.name]?[key]) / allowed) }))
        }
        return UptimeReport(window: windowText, slo: slo.availability, checks: entries)
    }
}

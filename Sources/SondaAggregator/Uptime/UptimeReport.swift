import Foundation
import GRDB
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

    /// Counts outcomes from the minute rollups; `check` and `region` narrow the answer.
    public static func compute(
        window: Duration, windowText: String, slo: AggregatorConfig.Objective, check: String?, region: String?,
        now: Date, in db: Database
    ) throws -> UptimeReport {
        let nowMinute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        let windowMinutes = max(1, window.components.seconds / 60)
        let sloMinutes = max(1, slo.window.components.seconds / 60)
        let horizon = max(windowMinutes, sloMinutes, 360)
        var sql = """
            SELECT check_name, region, minute, error_code != '' AS failed, SUM(count) FROM outcome_minute
            WHERE minute > ?
            """
        var arguments: StatementArguments = [nowMinute - horizon]
        if let check {
            sql += " AND check_name = ?"
            arguments += [check]
        }
        if let region {
            sql += " AND region = ?"
            arguments += [region]
        }
        sql += " GROUP BY check_name, region, minute, failed"
        struct Counts { var total = 0, failed = 0 }
        struct Key: Hashable, Comparable {
            var check: String, region: String
            static func < (a: Key, b: Key) -> Bool { (a.check, a.region) < (b.check, b.region) }
        }
        var counts: [Key: [String: Counts]] = [:]
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let key = Key(check: row[0], region: row[1])
            let age = nowMinute - (row[2] as Int64)
            let failed: Bool = row[3]
            let n: Int = row[4]
            var spans: [String] = []
            if age < windowMinutes { spans.append("window") }
            if age < sloMinutes { spans.append("slo") }
            for (name, minutes) in burnWindows where age < minutes { spans.append(name) }
            for span in spans {
                counts[key, default: [:]][span, default: Counts()].total += n
                if failed { counts[key, default: [:]][span, default: Counts()].failed += n }
            }
        }
        let allowed = 1 - slo.availability
        func errorRate(_ c: Counts?) -> Double {
            guard let c, c.total > 0 else { return 0 }
            return Double(c.failed) / Double(c.total)
        }
        let entries = counts.keys.sorted().map { key -> Entry in
            let spans = counts[key]!
            let inWindow = spans["window"] ?? Counts()
            return Entry(
                check: key.check, region: key.region, total: inWindow.total, failed: inWindow.failed,
                availability: inWindow.total > 0 ? 1 - errorRate(inWindow) : nil,
                errorBudgetLeft: 1 - errorRate(spans["slo"]) / allowed,
                burnRates: Dictionary(uniqueKeysWithValues: burnWindows.map { ($0.name, errorRate(spans[$0.name]) / allowed) }))
        }
        return UptimeReport(window: windowText, slo: slo.availability, checks: entries)
    }
}

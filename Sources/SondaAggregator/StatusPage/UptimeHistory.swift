import Foundation
import GRDB
import SondaConfig

/// Per check, across regions: outcomes in each of the last 24 hours and the last 30 days (from
/// the hour and day rollups), and the error budget left over the SLO window.
struct UptimeHistory {
    struct Counts: Hashable {
        var total = 0
        var failed = 0
        var availability: Double? { total > 0 ? 1 - Double(failed) / Double(total) : nil }
    }

    struct Check {
        var name: String
        var endpointClass: String
        var regions: Set<String> = []
        /// Oldest first; the last one is the current (partial) hour or day.
        var hours = [Counts](repeating: Counts(), count: 24)
        var days = [Counts](repeating: Counts(), count: 30)
        var sloWindow = Counts()

        var last24Hours: Counts {
            hours.reduce(into: Counts()) {
                $0.total += $1.total
                $0.failed += $1.failed
            }
        }
        var last30Days: Counts {
            days.reduce(into: Counts()) {
                $0.total += $1.total
                $0.failed += $1.failed
            }
        }

        /// 1 untouched, 0 spent, negative overspent.
        func errorBudgetLeft(slo: Double) -> Double {
            guard let availability = sloWindow.availability else { return 1 }
            return 1 - (1 - availability) / (1 - slo)
        }
    }

    var checks: [Check]
    var firstHour: Int64
    var firstDay: Int64

    static func load(slo: AggregatorConfig.Objective, now: Date, in db: Database) throws -> UptimeHistory {
        let hour = Int64((now.timeIntervalSince1970 / 3600).rounded(.down))
        let day = hour.floorDivided(by: 24)
        var checks: [String: Check] = [:]
        let hourRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT check_name, class, region, hour, error_code != '', SUM(count) FROM outcome_hour
                WHERE hour >= ? GROUP BY 1, 2, 3, 4, 5
                """, arguments: [hour - 23])
        while let row = try hourRows.next() {
            let name: String = row[0]
            let index = Int((row[3] as Int64) - (hour - 23))
            guard (0..<24).contains(index) else { continue }
            checks[name, default: Check(name: name, endpointClass: row[1])].regions.insert(row[2])
            checks[name]!.hours[index].add(count: row[5], failed: row[4])
        }
        let dayRows = try Row.fetchCursor(
            db,
            sql:
                "SELECT check_name, class, day, error_code != '', SUM(count) FROM outcome_day WHERE day >= ? GROUP BY 1, 2, 3, 4",
            arguments: [day - 29])
        while let row = try dayRows.next() {
            let name: String = row[0]
            let index = Int((row[2] as Int64) - (day - 29))
            guard (0..<30).contains(index) else { continue }
            checks[name, default: Check(name: name, endpointClass: row[1])].days[index].add(
                count: row[4], failed: row[3])
        }
        let span = RollupSpan(window: slo.window, now: now)
        let sloRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT check_name, error_code != '', SUM(count) FROM \(span.outcomeTable)
                WHERE \(span.column) >= ? GROUP BY 1, 2
                """, arguments: [span.since])
        while let row = try sloRows.next() {
            let name: String = row[0]
            checks[name]?.sloWindow.add(count: row[2], failed: row[1])
        }
        return UptimeHistory(checks: Array(checks.values), firstHour: hour - 23, firstDay: day - 29)
    }
}

extension UptimeHistory.Counts {
    mutating func add(count: Int, failed isFailure: Bool) {
        total += count
        if isFailure { failed += count }
    }

    /// ok at or above the SLO; degraded while failures stay within ten times the allowance; violated below.
    func state(slo: Double) -> BudgetState {
        guard total > 0 else { return .noData }
        let allowed = Double(total) * (1 - slo) * (1 + 1e-9)
        if Double(failed) <= allowed { return .ok }
        if Double(failed) <= 10 * allowed { return .degraded }
        return .violated
    }
}

import Foundation
import SondaConfig
import SondaCore

/// Per check, across regions: outcomes in each of the last 24 hours and the last 30 days (from
/// the hour and day rollups), and the error budget left over the SLO window.
public struct UptimeHistory: Sendable {
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

}

extension UptimeHistory {
    /// Builds the history from outcome rows, whichever store reads them: per check, region and
    /// hour over the last 24 hours, per check and day over the last 30 days, and per check over
    /// the SLO window (read after the others; a check seen only there is left out).
    struct Builder {
        let firstHour: Int64
        let firstDay: Int64
        private var checks: [String: Check] = [:]

        init(now: Date) {
            let hour = Int64((now.timeIntervalSince1970 / 3600).rounded(.down))
            firstHour = hour - 23
            firstDay = hour.floorDivided(by: 24) - 29
        }

        mutating func addHour(check: String, endpointClass: String, region: String, hour: Int64, failed: Bool, count: Int) {
            let index = Int(hour - firstHour)
            guard (0..<24).contains(index) else { return }
            checks[check, default: Check(name: check, endpointClass: endpointClass)].regions.insert(region)
            checks[check]!.hours[index].add(count: count, failed: failed)
        }

        mutating func addDay(check: String, endpointClass: String, day: Int64, failed: Bool, count: Int) {
            let index = Int(day - firstDay)
            guard (0..<30).contains(index) else { return }
            checks[check, default: Check(name: check, endpointClass: endpointClass)].days[index].add(
                count: count, failed: failed)
        }

        mutating func addSLOWindow(check: String, failed: Bool, count: Int) {
            checks[check]?.sloWindow.add(count: count, failed: failed)
        }

        func build() -> UptimeHistory {
            UptimeHistory(checks: Array(checks.values), firstHour: firstHour, firstDay: firstDay)
        }
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

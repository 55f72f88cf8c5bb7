import Foundation
import SondaConfig

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

import Foundation
import Testing

@testable import SondaCore

@Suite struct PhaseSummaryTests {
    func result(total: Double, ok: Bool = true) -> ProbeResult {
        ProbeResult(
            startedAt: Date(), error: ok ? nil : ProbeError(.timeout, "t"),
            phases: PhaseTimings(dns: 0, connect: 0, tls: 0, send: 0, wait: total, receive: 0, total: total))
    }

    @Test func nearestRankQuantilesOverSuccessfulResultsOnly() {
        let results = (1...20).map { result(total: Double($0)) } + [result(total: 10_000, ok: false)]
        let summary = PhaseSummary(results)
        #expect(summary.count == 20)
        #expect(summary.failed == 1)
        #expect(summary.stats[.total]?.p50 == 10)
        #expect(summary.stats[.total]?.p95 == 19)
        #expect(summary.stats[.total]?.max == 20)
    }

    @Test func budgetIsExceededByP95NotByOneOutlier() {
        let results = (1...20).map { result(total: $0 == 20 ? 900 : 100) }
        let budget = LatencyBudget(limit: .milliseconds(200))
        #expect(!budget.isExceeded(by: PhaseSummary(results)))
        #expect(budget.outcome(of: results[19])?.ok == false)
        #expect(budget.outcome(of: result(total: 50, ok: false)) == nil)
        #expect(LatencyBudget(limit: .milliseconds(99)).isExceeded(by: PhaseSummary(results)))
    }
}

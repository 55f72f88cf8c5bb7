import Foundation
import SondaAggregator
import Testing

/// The Google SRE workbook's multi-window burn-rate table against a 99.9 % objective: 2 % of a
/// 30-day budget in an hour is 14.4×, 5 % in six hours is 6×.
@Suite struct AlertBurnRateTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// Error rate over each window, and results per minute.
        var rate5m: Double, rate30m: Double, rate1h: Double, rate6h: Double
        var perMinute = 100
        var expected: String?
        var testDescription: String { name }

        var counts: BurnCounts {
            func window(_ minutes: Int, _ rate: Double) -> BurnCounts.Window {
                let total = minutes * perMinute
                return .init(total: total, failed: Int((Double(total) * rate).rounded()))
            }
            return BurnCounts(
                check: "booking", endpointClass: "appointment_booking", region: "sao_paulo",
                fiveMinutes: window(5, rate5m), thirtyMinutes: window(30, rate30m), oneHour: window(60, rate1h),
                sixHours: window(360, rate6h))
        }
    }

    static let cases: [Case] = [
        Case(
            name: "2% errors for an hour: 20× → critical", rate5m: 0.02, rate30m: 0.02, rate1h: 0.02, rate6h: 0.004,
            expected: "critical"),
        Case(
            name: "0.7% for six hours: 7× → high", rate5m: 0.007, rate30m: 0.007, rate1h: 0.007, rate6h: 0.007,
            expected: "high"),
        Case(name: "0.3%: 3× → nothing", rate5m: 0.003, rate30m: 0.003, rate1h: 0.003, rate6h: 0.003, expected: nil),
        Case(
            name: "an hour at 2% that already stopped (5m clean) → not critical, 6h+30m not met", rate5m: 0,
            rate30m: 0.004, rate1h: 0.02, rate6h: 0.004, expected: nil),
        Case(
            name: "a 5-minute spike alone → nothing", rate5m: 0.5, rate30m: 0.08, rate1h: 0.01, rate6h: 0.002,
            expected: nil),
        Case(
            name: "one failed probe of a quiet check → nothing", rate5m: 0.2, rate30m: 0.034, rate1h: 0.017,
            rate6h: 0.003, perMinute: 1, expected: nil),
    ]

    @Test(arguments: cases)
    func burnRateTable(_ c: Case) {
        var engine = AlertEngine(options: .init())
        let round = engine.evaluate(
            at: Date(timeIntervalSince1970: 1_800_000_000), rollups: RollupInputs(burns: [c.counts])
        )
        .round
        let burns = round.changed.filter { $0.labels["alertname"] == "SondaSLOBurn" }
        #expect(burns.map { $0.labels["severity"] } == (c.expected.map { [$0] } ?? []))
        if let alert = burns.first {
            #expect(alert.labels["check"] == "booking" && alert.labels["region"] == "sao_paulo")
            #expect(alert.annotations["summary"]?.contains("×") == true)
        }
    }
}

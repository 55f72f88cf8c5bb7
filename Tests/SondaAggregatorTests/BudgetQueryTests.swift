import Foundation
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import Testing

@Suite struct BudgetQueryTests {
    /// Exact nearest-rank quantile, the definition the histogram approximates.
    static func exact(_ samples: [Double], _ q: Double) -> Double {
        let sorted = samples.sorted()
        return sorted[max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)]
    }

    @Test func quantilesMatchAnExactComputationWithinOnePercent() async throws {
        let f = try IngestFixture()
        var generator = SplitMix64(seed: 7)
        // Log-normal-ish latencies around 120 ms with a long tail, spread over 30 minutes.
        let samples = (0..<3000).map { _ in 40 + 80 * exp(Double(generator.next() % 1000) / 400) }
        try await f.application().test(.router) { client in
            for chunk in stride(from: 0, to: samples.count, by: 500) {
                let results = samples[chunk..<chunk + 500].enumerated().map { i, ms in
                    IngestFixture.result(totalMilliseconds: ms, at: f.now.addingTimeInterval(-Double((chunk + i) % 1800)))
                }
                let body = try f.body(f.batch(results: results))
                #expect(try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            }
            let response = try await client.execute(uri: "/v1/budgets?window=1h", method: .get)
            let report = try JSONDecoder().decode(BudgetReport.self, from: Data(buffer: response.body))
            let cell = try #require(report.cells.first)
            #expect(cell.count == samples.count)
            for (value, q) in [(cell.p50, 0.5), (cell.p95, 0.95), (cell.p99, 0.99)] {
                let truth = Self.exact(samples, q)
                #expect(abs(try #require(value) - truth) / truth < 0.01, "p\(Int(q * 100)) \(value!) vs \(truth)")
            }
        }
    }

    @Test func cellsAreJudgedAgainstTheMostSpecificRule() async throws {
        let rules = [
            BudgetRule(endpointClass: "appointment_booking", limit: .milliseconds(200)),
            BudgetRule(endpointClass: "appointment_booking", profile: "mobile_3g_brazil", limit: .milliseconds(3500)),
            BudgetRule(endpointClass: "authentication", limit: .milliseconds(100)),
            BudgetRule(endpointClass: "patient_data", limit: .milliseconds(150)),
        ]
        let f = try IngestFixture(budgets: rules)
        func results(_ ms: Double, _ cls: String, _ profile: String, error: ProbeError? = nil) -> [ProbeResult] {
            (0..<20).map { i in
                IngestFixture.result(
                    endpointClass: cls, profile: profile, totalMilliseconds: ms, error: error,
                    at: f.now.addingTimeInterval(-Double(i)))
            }
        }
        let all =
            results(150, "appointment_booking", "desktop_brazil") + results(2500, "appointment_booking", "mobile_3g_brazil")
            + results(95, "authentication", "desktop_brazil") + results(300, "patient_data", "desktop_brazil")
            + results(0, "reporting", "desktop_brazil", error: ProbeError(.timeout, "timed out"))
        let body = try f.body(f.batch(results: all))
        try await f.application().test(.router) { client in
            #expect(try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            let response = try await client.execute(uri: "/v1/budgets?region=sao_paulo&window=15m", method: .get)
            let report = try JSONDecoder().decode(BudgetReport.self, from: Data(buffer: response.body))
            #expect(report.window == "15m")
            let states = Dictionary(uniqueKeysWithValues: report.cells.map { ("\($0.endpointClass)/\($0.profile)", $0.state) })
            #expect(
                states == [
                    "appointment_booking/desktop_brazil": .ok, "appointment_booking/mobile_3g_brazil": .ok,
                    "authentication/desktop_brazil": .degraded, "patient_data/desktop_brazil": .violated,
                    "reporting/desktop_brazil": .noData,
                ])
            #expect(report.cells.first { $0.profile == "mobile_3g_brazil" }?.limit == 3500)
        }
    }

    @Test(arguments: ["soon", "0s", "-5m", "500d"])
    func aBadWindowIs400NamingTheParameter(_ window: String) async throws {
        let f = try IngestFixture()
        try await f.application().test(.router) { client in
            for path in ["/v1/budgets", "/v1/uptime"] {
                let response = try await client.execute(uri: "\(path)?window=\(window)", method: .get)
                #expect(response.status == .badRequest)
                #expect(errorCode(response) == "bad_parameter")
                #expect(String(buffer: response.body).contains("'window'"))
            }
        }
    }

    @Test func readEndpointsNeedTheBearerTokenWhenConfigured() async throws {
        let f = try IngestFixture(readTokens: ["s3cret"])
        try await f.application().test(.router) { client in
            for path in ["/v1/budgets", "/v1/uptime", "/v1/agents", "/v1/checks/x/results", "/metrics"] {
                #expect(try await client.execute(uri: path, method: .get).status == .unauthorized)
                let wrong = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer nope"])
                #expect(wrong.status == .unauthorized)
                let right = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer s3cret"])
                #expect(right.status == .ok)
            }
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }
}


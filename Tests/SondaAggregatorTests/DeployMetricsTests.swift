import Foundation
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import Testing

/// The series deploy/grafana and deploy/prometheus query, as the aggregator renders them.
@Suite struct DeployMetricsTests {
    @Test func budgetCellsExportTheirLimitBesideTheirQuantiles() async throws {
        let f = try IngestFixture(budgets: [BudgetRule(endpointClass: "appointment_booking", limit: .milliseconds(200))]
        )
        let results = (0..<10).map { IngestFixture.result(totalMilliseconds: 150 + Double($0), at: f.now) }
        let body = try f.body(f.batch(results: results))
        try await f.application().test(.router) { client in
            let posted = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(posted.status == .ok)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let cell = #"region="sao_paulo",profile="desktop_brazil",class="appointment_booking",phase="total""#
            #expect(text.contains("# TYPE sonda_budget_limit_ms gauge"))
            #expect(text.contains("sonda_budget_limit_ms{\(cell),quantile=\"p95\"} 200.0"), "\(text)")
            #expect(text.contains("sonda_budget_latency_ms{\(cell),quantile=\"p95\"}"))
            #expect(text.contains("sonda_budget_state{\(cell)} 0"), "p95 ≈ 159 ms is under 200 ms by more than 10 %")
        }
    }
}

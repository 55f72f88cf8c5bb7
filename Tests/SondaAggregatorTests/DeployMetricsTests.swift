import Foundation
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import TestSupport
import Testing

/// The series deploy/grafana and deploy/prometheus query, as the aggregator renders them.
@Suite struct DeployMetricsTests {
    @Test func budgetCellsExportTheirLimitBesideTheirQuantilesInSeconds() async throws {
        let f = try IngestFixture(budgets: [BudgetRule(endpointClass: "appointment_booking", limit: .milliseconds(200))]
        )
        let results = (0..<10).map { IngestFixture.result(totalMilliseconds: 150 + Double($0), at: f.now) }
        let body = try f.body(f.batch(results: results))
        try await f.application().test(.router) { client in
            let posted = try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01"))
            #expect(posted.status == .ok)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let samples = PrometheusText.samples(text)
            let cell = #"region="sao_paulo",profile="desktop_brazil",class="appointment_booking",phase="total""#
            #expect(text.contains("# TYPE sonda_budget_limit_seconds gauge"))
            #expect(samples["sonda_budget_limit_seconds{\(cell),percentile=\"p95\"}"] == 0.2, "\(text)")
            let p95 = samples["sonda_budget_latency_seconds{\(cell),percentile=\"p95\"}"] ?? 0
            #expect(p95 > 0.15 && p95 < 0.161, "p95 of 150 … 159 ms, in seconds: \(p95)")
            #expect(samples["sonda_budget_state{\(cell)}"] == 0, "p95 ≈ 159 ms is under 200 ms by more than 10 %")
            #expect(samples["sonda_ingest_results_total"] == 10 && samples["sonda_ingest_batches_total"] == 1)
            let complaint = try await PrometheusText.lint(text)
            #expect(complaint == nil, "promtool check metrics: \(complaint ?? "")")
        }
    }
}

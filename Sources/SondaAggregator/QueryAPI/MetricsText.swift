import Foundation

/// `/metrics` in Prometheus' text format: ingest counters, and each budget cell's state,
/// quantiles over the last hour and limit as gauges.
enum MetricsText {
    static func render(ingest: IngestCounters.Snapshot, budgets: BudgetReport) -> String {
        var out = """
            # HELP sonda_ingest_batches_total Batches committed.
            # TYPE sonda_ingest_batches_total counter
            sonda_ingest_batches_total \(ingest.batches)
            # HELP sonda_ingest_results_total Results stored (duplicates excluded).
            # TYPE sonda_ingest_results_total counter
            sonda_ingest_results_total \(ingest.results)
            # HELP sonda_ingest_duplicates_total Results ignored because their id was already stored.
            # TYPE sonda_ingest_duplicates_total counter
            sonda_ingest_duplicates_total \(ingest.duplicates)
            # HELP sonda_ingest_replays_total Batches whose id was already stored inside the signature window: answered 200, nothing stored.
            # TYPE sonda_ingest_replays_total counter
            sonda_ingest_replays_total \(ingest.replays)
            # HELP sonda_ingest_rejected_total Batches refused, by error code.
            # TYPE sonda_ingest_rejected_total counter

            """
        for (code, n) in ingest.rejected.sorted(by: { $0.key < $1.key }) {
            out += "sonda_ingest_rejected_total{code=\"\(code)\"} \(n)\n"
        }
        out += """
            # HELP sonda_budget_state Budget state over 1h: -1 no data or no budget, 0 ok, 1 degraded, 2 violated.
            # TYPE sonda_budget_state gauge

            """
        var quantiles = """
            # HELP sonda_budget_latency_ms Latency quantile of successful results over 1h, milliseconds.
            # TYPE sonda_budget_latency_ms gauge

            """
        var limits = """
            # HELP sonda_budget_limit_ms The budget's limit for the cell's quantile, milliseconds.
            # TYPE sonda_budget_limit_ms gauge

            """
        for cell in budgets.cells {
            let labels =
                "region=\"\(escape(cell.region))\",profile=\"\(escape(cell.profile))\","
                + "class=\"\(escape(cell.endpointClass))\",phase=\"\(cell.phase)\""
            out += "sonda_budget_state{\(labels)} \(cell.state.gaugeValue)\n"
            for (name, value) in [("p50", cell.p50), ("p95", cell.p95), ("p99", cell.p99)] {
                guard let value else { continue }
                quantiles += "sonda_budget_latency_ms{\(labels),quantile=\"\(name)\"} \(value)\n"
            }
            if let limit = cell.limit {
                limits += "sonda_budget_limit_ms{\(labels),quantile=\"\(cell.quantile)\"} \(limit)\n"
            }
        }
        return out + quantiles + limits
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

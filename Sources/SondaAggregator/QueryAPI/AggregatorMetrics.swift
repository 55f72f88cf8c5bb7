import Foundation
import Prometheus
import SondaCore

/// The aggregator's `/metrics`: ingest counters, each budget cell's state, quantiles over the
/// last hour and limit, and the alert receivers' deliveries, in base units (seconds). Each scrape
/// fills a registry of its own from the counters and the budget report and swift-prometheus
/// writes it, as it writes the agent's; a cell or receiver that is gone is simply not there.
/// A cell's quantile is its `percentile` label ("p95"): Prometheus keeps `quantile` for summaries.
enum AggregatorMetrics {
    enum Family: String, CaseIterable {
        case ingestBatches = "sonda_ingest_batches_total"
        case ingestResults = "sonda_ingest_results_total"
        case ingestDuplicates = "sonda_ingest_duplicates_total"
        case ingestReplays = "sonda_ingest_replays_total"
        case ingestRejected = "sonda_ingest_rejected_total"
        case budgetState = "sonda_budget_state"
        case budgetLatency = "sonda_budget_latency_seconds"
        case budgetLimit = "sonda_budget_limit_seconds"
        case notifications = "sonda_alert_notifications_total"
        case deliveryRetries = "sonda_alert_delivery_retries_total"
        case queueDepth = "sonda_alert_queue_depth"
        case lastSuccess = "sonda_alert_last_success_timestamp_seconds"
        case lastFailure = "sonda_alert_last_failure_timestamp_seconds"

        var help: String {
            switch self {
            case .ingestBatches: "Batches committed."
            case .ingestResults: "Results stored (duplicates excluded)."
            case .ingestDuplicates: "Results ignored because their id was already stored."
            case .ingestReplays:
                "Batches whose id was already stored inside the signature window: answered 200, nothing stored."
            case .ingestRejected: "Batches refused, by error code."
            case .budgetState: "Budget state over 1h: -1 no data or no budget, 0 ok, 1 degraded, 2 violated."
            case .budgetLatency: "Latency quantile of successful results over 1h, seconds."
            case .budgetLimit: "The budget's limit for the cell's quantile, seconds."
            case .notifications: "Alert notifications by receiver and result: sent, failed, dropped, expired."
            case .deliveryRetries: "Requests to a receiver sent again after a network error, 429 or 5xx."
            case .queueDepth: "Notifications waiting to be sent to a receiver."
            case .lastSuccess: "When a receiver last accepted notifications, Unix seconds."
            case .lastFailure: "When notifications to a receiver last failed, Unix seconds."
            }
        }

        var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: rawValue, unitName: "", helpText: help) }
    }

    static func render(
        ingest: IngestCounters.Snapshot, budgets: BudgetReport, deliveries: [DeliveryCounters.ReceiverStatus],
        faults: FaultLog
    ) -> String {
        let registry = PrometheusCollectorRegistry()
        func count(_ family: Family, _ value: Int, _ labels: [(String, String)] = []) {
            registry.makeCounter(descriptor: family.descriptor, labels: labels).increment(by: Int64(value))
        }
        func set(_ family: Family, _ value: Double, _ labels: [(String, String)] = []) {
            registry.makeGauge(descriptor: family.descriptor, labels: labels).set(to: value)
        }
        count(.ingestBatches, ingest.batches)
        count(.ingestResults, ingest.results)
        count(.ingestDuplicates, ingest.duplicates)
        count(.ingestReplays, ingest.replays)
        for (code, n) in ingest.rejected { count(.ingestRejected, n, [("code", code.name)]) }

        for cell in budgets.cells {
            let labels = [
                ("region", cell.region), ("profile", cell.profile), ("class", cell.endpointClass),
                ("phase", cell.phase),
            ]
            set(.budgetState, Double(cell.state.gaugeValue), labels)
            for (name, value) in [("p50", cell.p50), ("p95", cell.p95), ("p99", cell.p99)] {
                guard let value else { continue }
                set(.budgetLatency, value / 1000, labels + [("percentile", name)])
            }
            if let limit = cell.limit { set(.budgetLimit, limit / 1000, labels + [("percentile", cell.quantile)]) }
        }

        for receiver in deliveries {
            let labels = [("receiver", receiver.receiver), ("kind", receiver.kind)]
            let results = [
                ("sent", receiver.sent), ("failed", receiver.failed), ("dropped", receiver.dropped),
                ("expired", receiver.expired),
            ]
            for (result, n) in results { count(.notifications, n, labels + [("result", result)]) }
            count(.deliveryRetries, receiver.retries, labels)
            set(.queueDepth, Double(receiver.queued), labels)
            if let at = receiver.lastSuccessAt { set(.lastSuccess, at.timeIntervalSince1970.rounded(), labels) }
            if let at = receiver.lastErrorAt { set(.lastFailure, at.timeIntervalSince1970.rounded(), labels) }
        }
        return registry.emitToString() + faults.metricsText()
    }
}

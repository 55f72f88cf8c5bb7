import Foundation

/// The alert receivers' part of `/metrics`: notifications by receiver and result, retries, queue
/// depth and the time of the last success and failure.
enum DeliveryMetricsText {
    static func render(_ receivers: [DeliveryCounters.ReceiverStatus]) -> String {
        var out = """
            # HELP sonda_alert_notifications_total Alert notifications by receiver and result: sent, failed, dropped, expired.
            # TYPE sonda_alert_notifications_total counter

            """
        for r in receivers {
            for (result, n) in [("sent", r.sent), ("failed", r.failed), ("dropped", r.dropped), ("expired", r.expired)]
            {
                out += "sonda_alert_notifications_total{\(labels(r)),result=\"\(result)\"} \(n)\n"
            }
        }
        func family(
            _ name: String, _ type: String, _ help: String, _ value: (DeliveryCounters.ReceiverStatus) -> Double?
        ) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for r in receivers {
                guard let v = value(r) else { continue }
                out += "\(name){\(labels(r))} \(v == v.rounded() ? String(Int64(v)) : String(v))\n"
            }
        }
        family(
            "sonda_alert_delivery_retries_total", "counter",
            "Requests to a receiver sent again after a network error, 429 or 5xx."
        ) {
            Double($0.retries)
        }
        family("sonda_alert_queue_depth", "gauge", "Notifications waiting to be sent to a receiver.") {
            Double($0.queued)
        }
        family(
            "sonda_alert_last_success_timestamp_seconds", "gauge",
            "When a receiver last accepted notifications, Unix seconds."
        ) {
            $0.lastSuccessAt?.timeIntervalSince1970.rounded()
        }
        family(
            "sonda_alert_last_failure_timestamp_seconds", "gauge",
            "When notifications to a receiver last failed, Unix seconds."
        ) {
            $0.lastErrorAt?.timeIntervalSince1970.rounded()
        }
        return out
    }

    private static func labels(_ r: DeliveryCounters.ReceiverStatus) -> String {
        "receiver=\"\(MetricsText.escape(r.receiver))\",kind=\"\(r.kind)\""
    }
}

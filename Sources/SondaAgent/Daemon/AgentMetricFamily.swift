import Prometheus

/// Every metric family on the agent's `/metrics`, with its help text. The probe_* names and
/// meanings are blackbox_exporter's, so dashboards and alerts written for it work unchanged; the
/// sonda_* ones are the agent's own. Names are kept whole rather than split into namespace and unit
/// so that a grep for a series finds where it is made.
enum AgentMetricFamily: String {
    case probeSuccess = "probe_success"
    case probeDuration = "probe_duration_seconds"
    case probeHTTPPhaseDuration = "probe_http_duration_seconds"
    case probeHTTPStatus = "probe_http_status_code"
    case probeCertificateExpiry = "probe_ssl_earliest_cert_expiry"
    case probeTLSVersion = "probe_tls_version_info"
    case phaseSeconds = "sonda_probe_phase_seconds"
    case probes = "sonda_probes_total"
    case probeFailures = "sonda_probe_failures_total"
    case probesSkipped = "sonda_probes_skipped_total"
    case queueWait = "sonda_probe_queue_wait_seconds"
    case spoolDepth = "sonda_spool_depth"
    case spoolDropped = "sonda_spool_dropped_total"
    case spoolUnwritten = "sonda_spool_unwritten_total"
    case batchesSent = "sonda_batches_sent_total"
    case sendFailures = "sonda_send_failures_total"
    case quarantinedResults = "sonda_quarantined_results_total"
    case quarantinedBatches = "sonda_quarantined_batches_total"

    var help: String {
        switch self {
        case .probeSuccess: "Whether the last probe succeeded (1) or failed (0)."
        case .probeDuration: "Duration of the last probe in seconds."
        case .probeHTTPPhaseDuration:
            "Duration of the last probe by blackbox_exporter's phase (resolve, connect, tls, processing, transfer) in seconds."
        case .probeHTTPStatus: "HTTP status of the last probe (0 without a response)."
        case .probeCertificateExpiry: "Earliest certificate expiry in the chain, Unix seconds."
        case .probeTLSVersion: "The TLS version the last probe negotiated."
        case .phaseSeconds: "Phase durations of successful probes."
        case .probes: "Probes run by this agent."
        case .probeFailures: "Probes that failed."
        case .probesSkipped: "Runs skipped because the previous run was still in flight."
        case .queueWait: "How long a due probe waited for a worker."
        case .spoolDepth: "Results waiting in the spool."
        case .spoolDropped: "Results dropped from a full spool."
        case .spoolUnwritten: "Results lost because the spool could not write them (disk full, read-only, I/O error)."
        case .batchesSent: "Batches the aggregator acknowledged."
        case .sendFailures: "Batch sends that failed."
        case .quarantinedResults:
            "Results the aggregator refused for good (400, 413), set aside in the spool's quarantine."
        case .quarantinedBatches: "Batches, or refused parts of batches, set aside in the spool's quarantine."
        }
    }

    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: rawValue, unitName: "", helpText: help)
    }

    /// Upper bounds in seconds for `sonda_probe_phase_seconds`: 1 ms (a loopback handshake) to
    /// 10 s (a 3G page).
    /// Upper bounds in seconds for `sonda_probe_queue_wait_seconds`: a job queued behind a fast
    /// probe waits well under 10 ms; one behind a slow probe waits the scheduler's patience (20 ms)
    /// and a wake-up; a long wait means every worker was busy.
    static let queueWaitBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]

    static let phaseBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
}

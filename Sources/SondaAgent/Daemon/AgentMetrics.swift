import Foundation
import SondaCore
import Synchronization

/// The agent's `/metrics`: the last result per check × profile under blackbox_exporter's names
/// and meanings, and the agent's own counters, in Prometheus' text format.
public final class AgentMetrics: Sendable {
    struct State {
        var last: [String: ProbeResult] = [:]
        var probes = 0
        var failures = 0
        var skipped = 0
        var sendFailures = 0
        var batchesSent = 0
        var spoolDepth = 0
        var dropped = 0
        var lastTick = Date.distantPast
        /// Cumulative bucket counts of phase durations, by profile and phase.
        var phaseBuckets: [String: [Int]] = [:]
        var phaseSums: [String: Double] = [:]
        var phaseCounts: [String: Int] = [:]
    }

    /// Upper bounds in seconds for `sonda_probe_phase_seconds`: 1 ms (a loopback handshake) to
    /// 10 s (a 3G page).
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let state = Mutex(State())

    public init() {}

    public func record(_ result: ProbeResult) {
        state.withLock { state in
            state.probes += 1
            if !result.ok { state.failures += 1 }
            state.last["\(result.check ?? "")\u{0}\(result.profile ?? "none")\u{0}\(result.step ?? "")"] = result
            guard result.ok, result.step == nil else { return }
            for phase in PhaseTimings.Phase.allCases {
                guard let milliseconds = result.phases[phase] else { continue }
                let seconds = milliseconds / 1000
                let key = "\(result.profile ?? "none")\u{0}\(phase.rawValue)"
                var counts = state.phaseBuckets[key] ?? [Int](repeating: 0, count: Self.buckets.count)
                for (index, bound) in Self.buckets.enumerated() where seconds <= bound { counts[index] += 1 }
                state.phaseBuckets[key] = counts
                state.phaseSums[key, default: 0] += seconds
                state.phaseCounts[key, default: 0] += 1
            }
        }
    }

    public func scheduled(skipped: Int, at date: Date = Date()) {
        state.withLock {
            $0.skipped = skipped
            $0.lastTick = date
        }
    }

    public func reported(ok: Bool, spoolDepth: Int, dropped: Int) {
        state.withLock {
            if ok { $0.batchesSent += 1 } else { $0.sendFailures += 1 }
            $0.spoolDepth = spoolDepth
            $0.dropped = dropped
        }
    }

    /// The scheduler ticked recently: what `/health` reports.
    public func isAlive(within seconds: TimeInterval, now: Date = Date()) -> Bool {
        state.withLock { now.timeIntervalSince($0.lastTick) < seconds }
    }

    public func render() -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(format(value))\n" }
        }
        let results = s.last.values.filter { $0.step == nil }.sorted { ($0.check ?? "", $0.profile ?? "") < ($1.check ?? "", $1.profile ?? "") }
        func labels(_ r: ProbeResult, _ extra: String = "") -> String {
            "{check=\"\(escape(r.check ?? ""))\",profile=\"\(escape(r.profile ?? "none"))\"\(extra)}"
        }
        family("probe_success", "gauge", "Whether the last probe succeeded (1) or failed (0).",
            results.map { (labels($0), $0.ok ? 1 : 0) })
        family("probe_duration_seconds", "gauge", "Duration of the last probe in seconds.",
            results.map { (labels($0), $0.phases.total / 1000) })
        family("probe_http_duration_seconds", "gauge", "Duration of the last probe by phase in seconds.",
            results.flatMap { r in
                PhaseTimings.Phase.allCases.filter { $0 != .total }.compactMap { phase in
                    r.phases[phase].map { (labels(r, ",phase=\"\(phase.rawValue)\""), $0 / 1000) }
                }
            })
        family("probe_http_status_code", "gauge", "HTTP status of the last probe (0 without a response).",
            results.map { (labels($0), Double($0.http?.status ?? 0)) })
        family("probe_ssl_earliest_cert_expiry", "gauge", "Earliest certificate expiry in the chain, Unix seconds.",
            results.compactMap { r in r.tls?.earliestExpiry.map { (labels(r), $0.timeIntervalSince1970) } })
        family("probe_tls_version_info", "gauge", "The TLS version the last probe negotiated.",
            results.compactMap { r in r.tls.map { (labels(r, ",version=\"\(Self.blackboxVersion($0.version))\""), 1) } })
        out += "# HELP sonda_probe_phase_seconds Phase durations of successful probes.\n"
        out += "# TYPE sonda_probe_phase_seconds histogram\n"
        for key in s.phaseBuckets.keys.sorted() {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            let labels = "profile=\"\(escape(String(parts[0])))\",phase=\"\(parts[1])\""
            for (index, bound) in Self.buckets.enumerated() {
                out += "sonda_probe_phase_seconds_bucket{\(labels),le=\"\(bound)\"} \(s.phaseBuckets[key]![index])\n"
            }
            out += "sonda_probe_phase_seconds_bucket{\(labels),le=\"+Inf\"} \(s.phaseCounts[key] ?? 0)\n"
            out += "sonda_probe_phase_seconds_sum{\(labels)} \(format(s.phaseSums[key] ?? 0))\n"
            out += "sonda_probe_phase_seconds_count{\(labels)} \(s.phaseCounts[key] ?? 0)\n"
        }
        family("sonda_probes_total", "counter", "Probes run by this agent.", [("", Double(s.probes))])
        family("sonda_probe_failures_total", "counter", "Probes that failed.", [("", Double(s.failures))])
        family("sonda_probes_skipped_total", "counter", "Runs skipped because the previous run was still in flight.", [("", Double(s.skipped))])
        family("sonda_spool_depth", "gauge", "Results waiting in the spool.", [("", Double(s.spoolDepth))])
        family("sonda_spool_dropped_total", "counter", "Results dropped from a full spool.", [("", Double(s.dropped))])
        family("sonda_batches_sent_total", "counter", "Batches the aggregator acknowledged.", [("", Double(s.batchesSent))])
        family("sonda_send_failures_total", "counter", "Batch sends that failed.", [("", Double(s.sendFailures))])
        return out
    }

    private func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// blackbox_exporter's spelling of the version label ("TLS 1.3"), from OpenSSL's ("TLSv1.3").
    static func blackboxVersion(_ openSSL: String) -> String {
        openSSL.hasPrefix("TLSv") ? "TLS " + openSSL.dropFirst(4) : openSSL
    }
}

import Prometheus
import SondaCore

/// The series one check × profile feeds: blackbox_exporter's probe_* gauges, which say what its
/// last probe saw, and its profile's `sonda_probe_phase_seconds` histograms. They are made in the
/// registry when the pair is first seen and held here, so a probe only stores into objects it
/// already has and never goes through the registry's name lookups.
///
/// A value the last result does not have (no certificate on a refused connection, a phase a failed
/// probe never reached) is unregistered rather than left at an earlier probe's value, as
/// blackbox_exporter leaves it out of the scrape; it is made again when a result has it. A new TLS
/// version unregisters the old version's series, so `probe_tls_version_info` has one per pair.
struct CheckSeries {
    private let labels: [(String, String)]
    private let profile: String
    private let success: Gauge
    private let duration: Gauge
    private let status: Gauge
    /// `probe_http_duration_seconds` by index in `BlackboxPhase.allCases`.
    private var phaseDurations: [Gauge?]
    private var expiry: Gauge?
    /// The series of the version the last probe negotiated, with OpenSSL's name for that version.
    private var tlsVersion: (openSSLName: String, gauge: Gauge)?
    /// The profile's histograms by index in `phases`: the registry hands every check of a profile the
    /// same objects.
    private var phaseHistograms: [ValueHistogram?]

    private static let phases = PhaseTimings.Phase.allCases
    private static let blackboxPhases = BlackboxPhase.allCases

    init(check: String, profile: String, registry: PrometheusCollectorRegistry) {
        labels = [("check", check), ("profile", profile)]
        self.profile = profile
        success = registry.makeGauge(descriptor: AgentMetricFamily.probeSuccess.descriptor, labels: labels)
        duration = registry.makeGauge(descriptor: AgentMetricFamily.probeDuration.descriptor, labels: labels)
        status = registry.makeGauge(descriptor: AgentMetricFamily.probeHTTPStatus.descriptor, labels: labels)
        phaseDurations = Array(repeating: nil, count: BlackboxPhase.allCases.count)
        phaseHistograms = Array(repeating: nil, count: Self.phases.count)
    }

    /// Stores `result`, a result of the whole check (not of one of its steps).
    mutating func update(with result: ProbeResult, registry: PrometheusCollectorRegistry) {
        success.set(to: result.ok ? 1 : 0)
        duration.set(to: result.phases.total / 1000)
        status.set(to: Double(result.http?.status ?? 0))
        let labels = labels
        for (index, phase) in Self.blackboxPhases.enumerated() {
            Self.set(&phaseDurations[index], to: phase.milliseconds(in: result.phases).map { $0 / 1000 }, registry: registry) {
                registry.makeGauge(
                    descriptor: AgentMetricFamily.probeHTTPPhaseDuration.descriptor,
                    labels: labels + [("phase", phase.rawValue)])
            }
        }
        Self.set(&expiry, to: result.tls?.earliestExpiry?.timeIntervalSince1970, registry: registry) {
            registry.makeGauge(descriptor: AgentMetricFamily.probeCertificateExpiry.descriptor, labels: labels)
        }
        updateTLSVersion(result.tls?.version, registry: registry)
        if result.ok { observePhases(result.phases, registry: registry) }
    }

    /// Unregisters this pair's gauges. The histograms stay: they belong to the profile, not the check.
    func unregister(from registry: PrometheusCollectorRegistry) {
        let optional = phaseDurations + [expiry, tlsVersion?.gauge]
        for gauge in [success, duration, status] + optional.compactMap({ $0 }) {
            registry.unregisterGauge(gauge)
        }
    }

    /// The latency distribution is of successful probes only, as budgets are.
    private mutating func observePhases(_ phases: PhaseTimings, registry: PrometheusCollectorRegistry) {
        for (index, phase) in Self.phases.enumerated() {
            guard let milliseconds = phases[phase] else { continue }
            if phaseHistograms[index] == nil {
                phaseHistograms[index] = registry.makeValueHistogram(
                    descriptor: AgentMetricFamily.phaseSeconds.descriptor,
                    labels: [("profile", profile), ("phase", phase.rawValue)], buckets: AgentMetricFamily.phaseBuckets)
            }
            phaseHistograms[index]?.record(milliseconds / 1000)
        }
    }

    private mutating func updateTLSVersion(_ openSSLName: String?, registry: PrometheusCollectorRegistry) {
        guard tlsVersion?.openSSLName != openSSLName else { return }
        if let old = tlsVersion { registry.unregisterGauge(old.gauge) }
        tlsVersion = openSSLName.map { name in
            let gauge = registry.makeGauge(
                descriptor: AgentMetricFamily.probeTLSVersion.descriptor,
                labels: labels + [("version", Self.blackboxVersion(name))])
            gauge.set(to: 1)
            return (name, gauge)
        }
    }

    /// Sets `gauge` to `value`, making it when it has none and unregistering it when `value` is nil.
    private static func set(
        _ gauge: inout Gauge?, to value: Double?, registry: PrometheusCollectorRegistry, make: () -> Gauge
    ) {
        switch (gauge, value) {
        case (let existing?, let value?): existing.set(to: value)
        case (nil, let value?):
            gauge = make()
            gauge?.set(to: value)
        case (let existing?, nil):
            registry.unregisterGauge(existing)
            gauge = nil
        case (nil, nil): break
        }
    }

    /// blackbox_exporter's spelling of the version label ("TLS 1.3"), from OpenSSL's ("TLSv1.3").
    static func blackboxVersion(_ openSSL: String) -> String {
        openSSL.hasPrefix("TLSv") ? "TLS " + openSSL.dropFirst(4) : openSSL
    }
}

/// blackbox_exporter's phases of `probe_http_duration_seconds`, so its dashboards read the agent's
/// series unchanged; Sonda's own phases stay in `sonda_probe_phase_seconds` and the JSON. Each is one
/// or two of Sonda's phases, so the five still add up to `probe_duration_seconds`: `processing`
/// is blackbox's time from the connection being ready to the first byte (Sonda's send and wait),
/// and a proxy's CONNECT tunnel, which blackbox counts in no phase, is in `connect`. A phase none
/// of whose parts was reached has no series.
enum BlackboxPhase: String, CaseIterable {
    case resolve, connect, tls, processing, transfer

    /// Written out rather than summed over a list of parts: this runs for every probe, and the
    /// arrays cost more than the sums (3.6 K instructions a probe in callgrind).
    func milliseconds(in phases: PhaseTimings) -> Double? {
        switch self {
        case .resolve: phases.dns
        case .connect: Self.sum(phases.connect, phases.proxy)
        case .tls: phases.tls
        case .processing: Self.sum(phases.send, phases.wait)
        case .transfer: phases.receive
        }
    }

    private static func sum(_ a: Double?, _ b: Double?) -> Double? {
        switch (a, b) {
        case (let a?, let b?): a + b
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }
}

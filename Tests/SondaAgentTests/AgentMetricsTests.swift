import Foundation
import SondaCore
import TestSupport
import Testing

@testable import SondaAgent

/// The agent's `/metrics` as Prometheus and blackbox_exporter dashboards read it: series names,
/// labels and values after a few probes, and what a reload or a new TLS version leaves behind.
@Suite struct AgentMetricsTests {
    static let expiry = Date(timeIntervalSince1970: 1_830_000_000)

    /// A result with every phase, a response and a certificate; a failed one got only as far as connect.
    static func result(
        check: String, profile: String = "desktop_brazil", totalMilliseconds: Double = 16.75,
        error: ProbeError? = nil, tls: String? = "TLSv1.3", step: String? = nil
    ) -> ProbeResult {
        let leaf = CertificateInfo(
            subject: "CN=api.example", issuer: "CN=Example CA", sans: ["api.example"], notBefore: expiry - 86_400 * 90,
            notAfter: expiry, sha256: "00", spkiSHA256: "AA=")
        let failed = error != nil
        return ProbeResult(
            check: check, step: step, profile: profile, startedAt: Date(timeIntervalSince1970: 1_795_428_000),
            error: error,
            phases: failed
                ? PhaseTimings(dns: 1.5, connect: 0.5, total: totalMilliseconds)
                : PhaseTimings(
                    dns: 0.5, connect: 1, tls: 3, send: 0.25, wait: 10, receive: 2, total: totalMilliseconds),
            http: failed
                ? nil
                : HTTPInfo(
                    status: 200, version: "1.1", redirects: 0, redirectMilliseconds: 0, bodyBytes: 12, remoteIP: nil),
            tls: tls.map {
                TLSReport(version: $0, cipher: nil, verified: true, leaf: leaf, chain: [], now: expiry - 86_400 * 40)
            })
    }

    @Test func lastResultPerCheckAndProfileUnderBlackboxNames() {
        let metrics = AgentMetrics()
        metrics.record(Self.result(check: "auth-health", totalMilliseconds: 40))
        metrics.record(Self.result(check: "auth-health", totalMilliseconds: 16.75))
        metrics.record(
            Self.result(
                check: "booking", profile: "mobile_3g_brazil", error: ProbeError(.connectRefused, "refused"), tls: nil))
        let text = metrics.render()
        let samples = PrometheusText.samples(text)
        let auth = #"check="auth-health",profile="desktop_brazil""#
        let booking = #"check="booking",profile="mobile_3g_brazil""#

        #expect(samples["probe_success{\(auth)}"] == 1)
        #expect(samples["probe_success{\(booking)}"] == 0)
        #expect(samples["probe_duration_seconds{\(auth)}"] == 0.01675)
        // blackbox_exporter's five phases, which add up to the probe's duration as Sonda's do.
        let blackbox = ["resolve": 0.0005, "connect": 0.001, "tls": 0.003, "processing": 0.01025, "transfer": 0.002]
        for (phase, seconds) in blackbox {
            #expect(samples["probe_http_duration_seconds{\(auth),phase=\"\(phase)\"}"] == seconds, "\(phase)")
        }
        #expect(abs(blackbox.values.reduce(0, +) - 0.01675) < 1e-12)
        #expect(
            samples.keys.filter { $0.hasPrefix("probe_http_duration_seconds{\(auth)") }.count == 5,
            "Sonda's own phases are in sonda_probe_phase_seconds only")
        #expect(samples["probe_http_duration_seconds{\(booking),phase=\"resolve\"}"] == 0.0015)
        #expect(samples["probe_http_duration_seconds{\(booking),phase=\"connect\"}"] == 0.0005)
        #expect(
            samples["probe_http_duration_seconds{\(booking),phase=\"processing\"}"] == nil,
            "a phase never reached has no series")
        #expect(samples["probe_http_status_code{\(auth)}"] == 200)
        #expect(samples["probe_http_status_code{\(booking)}"] == 0)
        #expect(samples["probe_ssl_earliest_cert_expiry{\(auth)}"] == Self.expiry.timeIntervalSince1970)
        #expect(samples["probe_ssl_earliest_cert_expiry{\(booking)}"] == nil)
        #expect(samples["probe_tls_version_info{\(auth),version=\"TLS 1.3\"}"] == 1)
        #expect(samples["sonda_probes_total"] == 3)
        #expect(samples["sonda_probe_failures_total"] == 1)
        for family in [
            "probe_success gauge", "probe_http_duration_seconds gauge", "sonda_probe_phase_seconds histogram",
            "sonda_probes_total counter",
        ] {
            #expect(text.contains("# TYPE \(family)\n"), "\(family)")
        }
        #expect(text.contains("# HELP probe_success Whether the last probe succeeded (1) or failed (0).\n"))
    }

    @Test func phaseHistogramCountsSuccessfulProbesByProfileAndPhase() {
        let metrics = AgentMetrics()
        for total in [0.8, 3, 40] { metrics.record(Self.result(check: "auth-health", totalMilliseconds: total)) }
        metrics.record(Self.result(check: "patient", totalMilliseconds: 700))
        metrics.record(
            Self.result(check: "patient", totalMilliseconds: 9000, error: ProbeError(.timeout, "slow"), tls: nil))
        metrics.record(Self.result(check: "patient", totalMilliseconds: 1, step: "login"))
        let samples = PrometheusText.samples(metrics.render())
        let total = #"profile="desktop_brazil",phase="total""#
        let expected: [(String, Double)] = [
            ("0.001", 1), ("0.0025", 1), ("0.005", 2), ("0.01", 2), ("0.025", 2), ("0.05", 3), ("0.1", 3),
            ("0.25", 3), ("0.5", 3), ("1.0", 4), ("2.5", 4), ("5.0", 4), ("10.0", 4), ("+Inf", 4),
        ]
        for (bound, count) in expected {
            #expect(samples["sonda_probe_phase_seconds_bucket{\(total),le=\"\(bound)\"}"] == count, "le=\(bound)")
        }
        #expect(
            samples["sonda_probe_phase_seconds_count{\(total)}"] == 4, "failures and steps are not in the distribution")
        #expect(abs((samples["sonda_probe_phase_seconds_sum{\(total)}"] ?? 0) - 0.7438) < 1e-9)
        #expect(samples[#"sonda_probe_phase_seconds_count{profile="desktop_brazil",phase="wait"}"#] == 4)
        #expect(samples["sonda_probes_total"] == 6, "a step's result counts as a probe")
    }

    @Test func seriesTheLastResultLacksAreDropped() {
        let metrics = AgentMetrics()
        metrics.record(Self.result(check: "auth-health"))
        metrics.record(Self.result(check: "auth-health", error: ProbeError(.connectRefused, "refused"), tls: nil))
        let text = metrics.render()
        #expect(!text.contains("probe_ssl_earliest_cert_expiry{"))
        #expect(!text.contains("probe_tls_version_info{"))
        #expect(
            PrometheusText.samples(text)[
                #"probe_http_duration_seconds{check="auth-health",profile="desktop_brazil",phase="processing"}"#] == nil)
        metrics.record(Self.result(check: "auth-health"))
        #expect(
            PrometheusText.samples(metrics.render())[
                #"probe_ssl_earliest_cert_expiry{check="auth-health",profile="desktop_brazil"}"#] != nil)
    }

    @Test func aNewTLSVersionReplacesTheOldSeries() {
        let metrics = AgentMetrics()
        metrics.record(Self.result(check: "auth-health", tls: "TLSv1.3"))
        metrics.record(Self.result(check: "auth-health", tls: "TLSv1.2"))
        let versions = PrometheusText.samples(metrics.render()).filter { $0.key.hasPrefix("probe_tls_version_info{") }
        #expect(
            versions == [#"probe_tls_version_info{check="auth-health",profile="desktop_brazil",version="TLS 1.2"}"#: 1])
    }

    @Test func forgetUnregistersChecksNoLongerConfigured() {
        let metrics = AgentMetrics()
        metrics.record(Self.result(check: "auth-health"))
        metrics.record(Self.result(check: "auth-health", profile: "mobile_3g_brazil"))
        metrics.record(Self.result(check: "retired"))
        metrics.forget(exceptChecks: ["auth-health"])
        metrics.record(Self.result(check: "retired"))  // a probe in flight across the reload
        let text = metrics.render()
        #expect(!text.contains(#"check="retired""#), "\(text)")
        #expect(text.components(separatedBy: #"probe_success{check="auth-health""#).count == 3)
        #expect(PrometheusText.samples(text)["sonda_probes_total"] == 4)
        #expect(PrometheusText.samples(text)[#"sonda_probe_phase_seconds_count{profile="desktop_brazil",phase="total"}"#] == 2)

        metrics.forget(exceptChecks: ["auth-health", "retired"])
        metrics.record(Self.result(check: "retired"))
        #expect(PrometheusText.samples(metrics.render())[#"probe_success{check="retired",profile="desktop_brazil"}"#] == 1)
    }

    @Test func runningTotalsBecomeCountersThatNeverGoDown() {
        let metrics = AgentMetrics()
        metrics.scheduled(skipped: 2, at: Date(timeIntervalSince1970: 100))
        metrics.scheduled(skipped: 5, at: Date(timeIntervalSince1970: 101))
        metrics.scheduled(skipped: 1, at: Date(timeIntervalSince1970: 102))  // a reload's new schedule
        metrics.reported(ok: true, spoolDepth: 3, dropped: 4)
        metrics.reported(ok: false, spoolDepth: 7, dropped: 6)
        metrics.quarantined(results: 0, batches: 0)
        #expect(PrometheusText.samples(metrics.render())["sonda_quarantined_results_total"] == 0, "there from the start")
        metrics.quarantined(results: 12, batches: 2)
        metrics.quarantined(results: 13, batches: 3)
        let samples = PrometheusText.samples(metrics.render())
        #expect(samples["sonda_quarantined_results_total"] == 13)
        #expect(samples["sonda_quarantined_batches_total"] == 3)
        #expect(samples["sonda_probes_skipped_total"] == 6)
        #expect(samples["sonda_batches_sent_total"] == 1)
        #expect(samples["sonda_send_failures_total"] == 1)
        #expect(samples["sonda_spool_depth"] == 7)
        #expect(samples["sonda_spool_dropped_total"] == 6)
        #expect(metrics.isAlive(within: 30, now: Date(timeIntervalSince1970: 120)))
        #expect(!metrics.isAlive(within: 30, now: Date(timeIntervalSince1970: 140)))
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
            "needs promtool: apt-get install prometheus"))
    func promtoolAcceptsTheExposition() async throws {
        let metrics = AgentMetrics()
        metrics.record(Self.result(check: #"quote"d\check"#))
        metrics.record(Self.result(check: "booking", error: ProbeError(.tlsHandshake, "alert"), tls: nil))
        metrics.scheduled(skipped: 1)
        metrics.reported(ok: true, spoolDepth: 0, dropped: 0)
        let text = metrics.render()
        #expect(text.contains(#"probe_success{check="quote\"d\\check",profile="desktop_brazil"} "#))
        let complaint = try await PrometheusText.lint(text)
        #expect(complaint == nil, "promtool check metrics: \(complaint ?? "")")
    }
}

import Foundation
import HummingbirdTesting
import SondaAggregator
import SondaConfig
import SondaCore

/// A small fleet's month of results for the status page, loaded through the real ingest path
/// (signed batches): two reporting agents (São Paulo, Rio) and one that never reported, seven
/// checks under three profiles, with a TLS 1.2-only legacy host failing for the last day, a
/// short booking outage, slow reports, certificates expiring in 5, 15, 40 and 90 days, and one
/// check that goes through the clinic's proxy.
enum StatusPageFixture {
    struct Check {
        var name: String
        var endpointClass: String
        var host: String
        var certificateDays: Double
        /// Server time (wait) on desktop, in milliseconds.
        var serverMilliseconds: Double
        /// Through a proxy on the clinic's network: the TCP connect is to the proxy (a millisecond
        /// away), and the CONNECT tunnel to the origin costs a round trip of its own (`proxy`).
        var viaProxy = false
    }

    static let checks = [
        Check(
            name: "api-health", endpointClass: "authentication", host: "api.clinica.example", certificateDays: 40,
            serverMilliseconds: 20),
        Check(
            name: "login", endpointClass: "authentication", host: "api.clinica.example", certificateDays: 40,
            serverMilliseconds: 45),
        Check(
            name: "patient-record", endpointClass: "patient_data", host: "api.clinica.example", certificateDays: 40,
            serverMilliseconds: 70),
        Check(
            name: "booking-slots", endpointClass: "appointment_booking", host: "agenda.clinica.example",
            certificateDays: 15, serverMilliseconds: 95),
        Check(
            name: "treatment-plan", endpointClass: "treatment_planning", host: "api.clinica.example",
            certificateDays: 40, serverMilliseconds: 150, viaProxy: true),
        Check(
            name: "daily-report", endpointClass: "reporting", host: "reports.clinica.example", certificateDays: 90,
            serverMilliseconds: 430),
        Check(
            name: "legacy-portal", endpointClass: "patient_data", host: "legado.clinica.example", certificateDays: 5,
            serverMilliseconds: 60),
    ]
    static let profiles: [(name: String, rttMilliseconds: Double, receiveMilliseconds: Double)] = [
        ("desktop_brazil", 8, 2), ("mobile_4g_brazil", 16, 12), ("mobile_3g_brazil", 150, 260),
    ]
    static let agents: [(id: String, region: String)] = [
        ("sp-clinic-01", "sao_paulo"), ("rj-clinic-01", "rio_de_janeiro"),
    ]
    /// Configured but never reported: shown as silent.
    static let silentAgent = "poa-clinic-01"

    static let budgets: [BudgetRule] =
        [
            ("authentication", 100), ("patient_data", 150), ("appointment_booking", 200), ("treatment_planning", 300),
            ("reporting", 500),
        ].flatMap { endpointClass, limit in
            [
                BudgetRule(endpointClass: endpointClass, limit: .milliseconds(limit)),
                BudgetRule(endpointClass: endpointClass, profile: "mobile_3g_brazil", limit: .milliseconds(3500)),
            ]
        }

    static func fixture(readTokens: [String] = []) throws -> IngestFixture {
        var f = try IngestFixture(
            agents: agents.map(\.id), budgets: budgets, readTokens: readTokens, maxBodyBytes: 32 << 20)
        for (i, agent) in f.config.agents.enumerated() {
            f.config.agents[i].region = agents.first { $0.id == agent.id }!.region
            f.config.agents[i].site = agent.id.hasPrefix("sp") ? "clinica-paulista" : "clinica-copacabana"
        }
        f.config.agents.append(
            .init(
                id: silentAgent, region: "porto_alegre", site: "clinica-moinhos",
                publicKey: Data(repeating: 7, count: 32)))
        return f
    }

    /// The fleet's results: every 20 minutes over the last day, every 8 hours before that for 30 days.
    static func results(agent: String, region: String, now: Date) -> [ProbeResult] {
        var generator = SplitMix64(seed: UInt64(agent.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
        var times = stride(from: 0.0, to: 86_400, by: 1200).map { now.addingTimeInterval(-$0 - 30) }
        times += stride(from: 86_400.0, to: 30 * 86_400, by: 8 * 3600).map { now.addingTimeInterval(-$0 - 30) }
        var results: [ProbeResult] = []
        for (t, at) in times.enumerated() {
            for (c, check) in checks.enumerated() {
                for (p, profile) in profiles.enumerated() {
                    let jitter = 0.85 + 0.4 * Double(generator.next() % 1000) / 1000
                    let tail = generator.next() % 40 == 0 ? 2.2 : 1.0
                    let slower = region == "rio_de_janeiro" ? 1.12 : 1.0
                    let rtt = profile.rttMilliseconds * slower
                    let dns = (2 + rtt * 0.6) * jitter
                    let wait = (check.serverMilliseconds + rtt) * jitter * tail
                    let receive = profile.receiveMilliseconds * jitter
                    let connect = check.viaProxy ? jitter : rtt * jitter
                    let tunnel = check.viaProxy ? rtt * jitter : nil
                    let phases = PhaseTimings(
                        dns: dns, connect: connect, proxy: tunnel, tls: 2 * rtt * jitter, send: 0.1, wait: wait,
                        receive: receive, total: dns + connect + (tunnel ?? 0) + 2 * rtt * jitter + 0.1 + wait + receive
                    )
                    let age = now.timeIntervalSince(at)
                    var error: ProbeError?
                    if check.name == "legacy-portal" && age < 86_400 {
                        error = ProbeError(.tlsVersion, "server negotiated TLSv1.2; policy requires TLSv1.3")
                    } else if check.name == "booking-slots" && (age > 6 * 86_400 && age < 6 * 86_400 + 9 * 3600) {
                        error = ProbeError(.timeout, "no response within 5 s")
                    } else if check.name == "booking-slots" && t == 8 && p == 2 {
                        error = ProbeError(.httpStatus, "HTTP 503, expected one of 200")
                    }
                    let certificate = CertificateInfo(
                        subject: "CN=\(check.host)", issuer: "CN=Sonda Demo CA", sans: [check.host],
                        notBefore: now.addingTimeInterval(-60 * 86_400),
                        notAfter: now.addingTimeInterval(check.certificateDays * 86_400 + Double(c) * 600),
                        sha256: "00",
                        spkiSHA256: "AA==")
                    let tls = TLSReport(
                        version: check.name == "legacy-portal" ? "TLSv1.2" : "TLSv1.3",
                        cipher: "TLS_AES_128_GCM_SHA256",
                        verified: true, leaf: certificate, chain: [], now: at)
                    results.append(
                        ProbeResult(
                            check: check.name, agent: agent, region: region, profile: profile.name,
                            endpointClass: check.endpointClass, startedAt: at, error: error,
                            phases: error == nil ? phases : PhaseTimings(dns: dns, connect: rtt, total: dns + rtt),
                            http: error == nil
                                ? HTTPInfo(
                                    status: 200, version: "2", redirects: 0, redirectMilliseconds: 0, bodyBytes: 900,
                                    remoteIP: check.viaProxy ? nil : "10.0.0.1") : nil,
                            tls: tls,
                            proxy: check.viaProxy
                                ? ProxyInfo(url: "http://proxy.clinica.lan:3128", ip: "10.9.0.3") : nil))
                }
            }
        }
        return results
    }

    /// Posts every agent's results in signed batches; returns how many were accepted.
    @discardableResult
    static func load(_ f: IngestFixture, into client: some TestClientProtocol) async throws -> Int {
        var accepted = 0
        for agent in agents {
            let all = results(agent: agent.id, region: agent.region, now: f.now)
            for start in stride(from: 0, to: all.count, by: 2500) {
                let body = try f.body(
                    f.batch(agent: agent.id, results: Array(all[start..<min(start + 2500, all.count)])))
                let response = try await client.post(body, signature: try f.signature(for: body, agent: agent.id))
                guard response.status == .ok else { throw LoadFailed(status: Int(response.status.code)) }
                accepted += min(2500, all.count - start)
            }
        }
        return accepted
    }

    /// The same batches written to the fixture's store directly, without HTTP.
    static func write(_ f: IngestFixture) async throws {
        for agent in agents {
            let all = results(agent: agent.id, region: agent.region, now: f.now)
            for start in stride(from: 0, to: all.count, by: 2500) {
                let batch = f.batch(agent: agent.id, results: Array(all[start..<min(start + 2500, all.count)]))
                try await f.store.write(batch, rawResults: nil, region: agent.region, now: f.now, auditDetail: nil)
            }
        }
    }

    /// What the alert store would hold for this fleet.
    static func alerts(now: Date) -> [AlertNotification] {
        func alert(_ name: String, _ severity: String, _ labels: [String: String], _ summary: String, minutes: Double)
            -> AlertNotification
        {
            AlertNotification(
                fingerprint: name + (labels["check"] ?? ""), status: .firing,
                labels: labels.merging(["alertname": name, "severity": severity]) { a, _ in a },
                annotations: ["summary": summary], startsAt: now.addingTimeInterval(-minutes * 60),
                generatorURL: "http://127.0.0.1/")
        }
        return [
            alert(
                "SondaTLSPolicy", "critical", ["check": "legacy-portal", "regions": "rio_de_janeiro,sao_paulo"],
                "legado.clinica.example negotiated TLSv1.2; policy requires TLSv1.3", minutes: 1430),
            alert(
                "SondaCertExpiry", "critical", ["check": "legacy-portal"],
                "certificate for legado.clinica.example expires in 5 days", minutes: 300),
            alert(
                "SondaBudgetViolated", "high",
                ["class": "reporting", "region": "sao_paulo", "profile": "desktop_brazil"],
                "p95 total 584 ms over the 500 ms budget for 1 h", minutes: 50),
            alert(
                "SondaAgentSilent", "medium", ["agent": silentAgent, "region": "porto_alegre"],
                "no heartbeat from poa-clinic-01", minutes: 12),
            alert(
                "SondaCertExpiry", "high", ["check": "booking-slots"],
                "certificate for agenda.clinica.example expires in 15 days", minutes: 600),
        ]
    }

    struct LoadFailed: Error { var status: Int }
}

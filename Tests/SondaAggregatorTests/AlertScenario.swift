import Foundation
import SondaAggregator
import SondaConfig

/// A simulated fleet for the alert engine: three agents in three regions, one result per check per
/// profile per minute, heartbeats with every batch, and an evaluation every 15 s, on an injected
/// clock (nothing sleeps).
struct AlertScenario {
    static let agents = [("sp-clinic-01", "sao_paulo"), ("rj-clinic-01", "rio"), ("intl-01", "international")]

    var engine: AlertEngine
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    var rounds: [AlertRound] = []
    var evaluations: [AlertEngine.Evaluation] = []
    var silences: [Silence] = []
    var rollups = RollupInputs()

    init(alerting: AlertingConfig = AlertingConfig()) {
        engine = AlertEngine(options: .init(alerting: alerting))
    }

    /// One minute of results from the agents in `reporting`; `error(agent, profile)` decides each
    /// result's failure (nil: it passed). Four evaluations follow, 15 s apart.
    mutating func minute(
        check: String = "booking", reporting: Set<String>? = nil, profiles: [String] = ["desktop_brazil"],
        tlsVersion: String? = "TLSv1.3", certificateExpiry: Date? = nil,
        clientCertificate: ClientCertificateExpiry? = nil,
        error: (String, String) -> String? = { _, _ in nil }
    ) {
        for (agent, region) in Self.agents where reporting?.contains(agent) ?? true {
            for profile in profiles {
                let code = error(agent, profile)
                engine.add(
                    ResultEvent(
                        check: check, endpointClass: "appointment_booking", agent: agent, region: region,
                        profile: profile,
                        startedAt: now, ok: code == nil, errorCode: code, tlsVersion: tlsVersion,
                        certificateExpiry: certificateExpiry, clientCertificate: clientCertificate))
            }
            engine.add(HeartbeatEvent(agent: agent, region: region, at: now.addingTimeInterval(1)))
        }
        for step in 1...4 { evaluate(at: now.addingTimeInterval(Double(step) * 15)) }
        now = now.addingTimeInterval(60)
    }

    mutating func evaluate(at time: Date) {
        let evaluation = engine.evaluate(at: time, rollups: rollups, silences: silences)
        rollups = RollupInputs()
        evaluations.append(evaluation)
        rounds.append(evaluation.round)
    }

    /// Every notification announced (first firing or resolution), in order.
    var announced: [AlertNotification] { rounds.flatMap(\.changed) }

    func announced(_ alertname: String, _ status: AlertNotification.Status? = nil) -> [AlertNotification] {
        announced.filter { $0.labels["alertname"] == alertname && (status == nil || $0.status == status) }
    }

    /// When the first notification of `alertname` firing went out.
    func firstFiring(_ alertname: String) -> Date? {
        rounds.first { $0.changed.contains { $0.labels["alertname"] == alertname && $0.status == .firing } }?.at
    }
}

import Foundation
import SondaConfig
import SondaCore

/// `tls_policy`: the latest TLS-deciding result of a check from an agent failed the policy
/// (version below the minimum, untrusted chain, hostname, pin, expired) → critical, on the first
/// such result. It resolves once a later result from that agent completes TLS.
enum TLSPolicyRule {
    static func conditions(_ c: RuleContext) -> [AlertCondition] {
        c.observations.tls.compactMap { pair, state -> AlertCondition? in
            guard let error = state.policyError, c.observations.isCurrent(state.at, now: c.now) else { return nil }
            let region = c.observations.agents[pair.agent]?.region ?? ""
            let seen = state.version.map { " (negotiated \($0))" } ?? ""
            return AlertCondition(
                labels: RuleContext.labels(
                    "SondaTLSPolicy", .critical,
                    [
                        "check": pair.check, "class": c.endpointClass(of: pair.check), "agent": pair.agent,
                        "region": region,
                    ]),
                summary: "\(pair.check): TLS policy failure \(error)\(seen) seen from \(pair.agent) (\(region))",
                description: "Latest result at \(Timestamp.format(state.at)), profile \(state.profile).")
        }
    }
}

/// `cert_expiry`: the earliest expiry any non-silent agent last saw in a check's chain, under
/// `warning` → high, under `critical` (or expired) → critical. One alert per check; severity is
/// part of the labels, so an escalation resolves the high alert and fires a new critical one in
/// the same evaluation (its own fingerprint, as Alertmanager sees it). The client certificate a
/// check presents (mutual TLS) is watched the same way, as its own alert with the label
/// `certificate: client`: once it expires the server refuses the agent, and the server's own
/// monitoring sees nothing wrong.
enum CertificateExpiryRule {
    static func conditions(_ c: RuleContext) -> [AlertCondition] {
        conditions(c, c.observations.expiries, client: false)
            + conditions(c, c.observations.clientExpiries, client: true)
    }

    private static func conditions(
        _ c: RuleContext, _ observed: [FleetObservations.PairKey: FleetObservations.Expiry], client: Bool
    ) -> [AlertCondition] {
        var earliest: [String: FleetObservations.Expiry] = [:]
        for (pair, expiry) in observed
        where !c.isSilent(pair.agent) && c.observations.isCurrent(expiry.at, now: c.now) {
            if expiry.expiry < earliest[pair.check]?.expiry ?? .distantFuture { earliest[pair.check] = expiry }
        }
        return earliest.compactMap { check, expiry -> AlertCondition? in
            let left = expiry.expiry.timeIntervalSince(c.now)
            let severity: AlertingConfig.Severity
            if left < c.config.certCritical.intervalSeconds {
                severity = .critical
            } else if left < c.config.certWarning.intervalSeconds {
                severity = .high
            } else {
                return nil
            }
            let when = left <= 0 ? "expired \(spoken(-left)) ago" : "expires in \(spoken(left))"
            var labels = ["check": check, "class": c.endpointClass(of: check)]
            if client { labels["certificate"] = "client" }
            let what = client ? "client certificate \(expiry.subject)" : "certificate"
            return AlertCondition(
                labels: RuleContext.labels("SondaCertExpiry", severity, labels),
                summary: "\(check): \(what) \(when) (\(Timestamp.format(expiry.expiry)))",
                description: client
                    ? "The agents present this certificate to the server (mutual TLS); once it expires the server refuses them."
                    : "")
        }
    }
}

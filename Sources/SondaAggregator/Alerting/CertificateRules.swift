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
/// the same evaluation (its own fingerprint, as Alertmanager sees it).
enum CertificateExpiryRule {
    static func conditions(_ c: RuleContext) -> [AlertCondition] {
        var earliest: [String: Date] = [:]
        for (pair, expiry) in c.observations.expiries
        where !c.isSilent(pair.agent) && c.observations.isCurrent(expiry.at, now: c.now) {
            earliest[pair.check] = min(earliest[pair.check] ?? .distantFuture, expiry.expiry)
        }
        return earliest.compactMap { check, expiry -> AlertCondition? in
            let left = expiry.timeIntervalSince(c.now)
            let severity: AlertingConfig.Severity
            if left < c.config.certCritical.intervalSeconds {
                severity = .critical
            } else if left < c.config.certWarning.intervalSeconds {
                severity = .high
            } else {
                return nil
            }
            let when = left <= 0 ? "expired \(spoken(-left)) ago" : "expires in \(spoken(left))"
            return AlertCondition(
                labels: RuleContext.labels(
                    "SondaCertExpiry", severity, ["check": check, "class": c.endpointClass(of: check)]),
                summary: "\(check): certificate \(when) (\(Timestamp.format(expiry)))")
        }
    }
}

import Foundation

/// What a check demands of a server's TLS: a minimum protocol version, certificate lifetime
/// windows, and optionally pinned public keys.
public struct TLSPolicy: Hashable, Sendable {
    /// OpenSSL's name of the lowest acceptable version ("TLSv1.3" by default).
    public var minVersion: String
    public var expiryWarning: Duration
    public var expiryCritical: Duration
    /// Base64 SHA-256 digests of acceptable SubjectPublicKeyInfos; empty means no pinning.
    public var spkiSHA256Pins: [String]

    public init(
        minVersion: String = "TLSv1.3", expiryWarning: Duration = .seconds(21 * 86_400),
        expiryCritical: Duration = .seconds(7 * 86_400), spkiSHA256Pins: [String] = []
    ) {
        self.minVersion = minVersion
        self.expiryWarning = expiryWarning
        self.expiryCritical = expiryCritical
        self.spkiSHA256Pins = spkiSHA256Pins.map { $0.hasPrefix("sha256//") ? String($0.dropFirst(8)) : $0 }
    }

    /// "1.2" or "1.3" (as flags and configs say it) to OpenSSL's name; nil for anything else.
    public static func versionName(_ short: String) -> String? {
        ["1.2": "TLSv1.2", "1.3": "TLSv1.3"][short]
    }

    public func versionViolation(negotiated: String) -> ProbeError? {
        guard let have = TLSReport.rank(ofVersion: negotiated), let want = TLSReport.rank(ofVersion: minVersion),
            have < want
        else { return nil }
        return ProbeError(.tlsVersion, "server negotiated \(negotiated); policy requires \(minVersion)")
    }

    public func pinViolation(leaf: CertificateInfo?) -> ProbeError? {
        guard !spkiSHA256Pins.isEmpty else { return nil }
        guard let leaf else { return ProbeError(.tlsPin, "no server certificate to check against the pinned key") }
        if spkiSHA256Pins.contains(leaf.spkiSHA256) { return nil }
        return ProbeError(
            .tlsPin, "server key sha256//\(leaf.spkiSHA256) matches none of the \(spkiSHA256Pins.count) pinned keys")
    }

    /// `tls_expiring` when the earliest expiry in the chain is inside the critical window.
    public func expiryViolation(_ report: TLSReport) -> ProbeError? {
        guard let days = report.daysToExpiry, let when = report.earliestExpiry else { return nil }
        let criticalDays = expiryCritical.milliseconds / 86_400_000
        guard days < criticalDays else { return nil }
        return ProbeError(
            .tlsExpiring,
            "certificate expires \(Timestamp.format(when)) (in \(days) days), inside the critical window of \(DurationParsing.format(expiryCritical))"
        )
    }

    public func isInWarningWindow(_ report: TLSReport) -> Bool {
        guard let days = report.daysToExpiry else { return false }
        return days < expiryWarning.milliseconds / 86_400_000
    }
}

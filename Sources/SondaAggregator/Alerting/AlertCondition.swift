import Crypto
import Foundation
import SondaConfig

/// What a rule found true at one evaluation: the alert's labels and text, and whether the
/// rule's `for:` is already met (false leaves the alert pending).
struct AlertCondition: Sendable, Hashable {
    var labels: [String: String]
    var summary: String
    var description: String = ""
    var ready: Bool = true

    var severity: AlertingConfig.Severity { AlertingConfig.Severity(rawValue: labels["severity"] ?? "") ?? .low }
    var fingerprint: String { AlertFingerprint.of(labels) }
    /// The alert without its severity: a cert alert escalating from high to critical has one identity.
    var identity: String { AlertFingerprint.of(labels.filter { $0.key != "severity" }) }
}

/// The fingerprint of an alert: the first 16 hex digits of SHA-256 over its labels sorted by name
/// (`name=value` lines). `regions`, which describes how far an outage has spread and changes while
/// it lasts, is left out, so a down alert keeps one fingerprint from start to end.
public enum AlertFingerprint {
    static let descriptive: Set<String> = ["regions"]

    public static func of(_ labels: [String: String]) -> String {
        let text = labels.filter { !descriptive.contains($0.key) }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)\n" }.joined()
        return SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

import Foundation
import SondaCore

/// How every store writes alerts beyond their columns: labels as JSON, and the audit chain's
/// entry for a firing, a resolution or a silence.
enum AlertRecord {
    static func labelsJSON(_ labels: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(labels), as: UTF8.self)
    }

    static func labels(fromJSON text: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }

    static func auditDetail(_ change: AlertEngine.Change) -> String {
        let a = change.alert
        return "\(change.transition.rawValue) fingerprint=\(a.fingerprint) alertname=\(a.labels["alertname"] ?? "") "
            + "severity=\(a.severity.rawValue) \(a.summary)"
    }

    static func auditDetail(_ s: Silence) throws -> String {
        "id=\(s.id) matchers=\(try labelsJSON(s.matchers)) until=\(Timestamp.format(s.endsAt)) \(s.comment)"
    }

    /// A silence ended early: `expired`, then the silence as it now is.
    static func expiryDetail(_ s: Silence) throws -> String { "expired " + (try auditDetail(s)) }
}

import Foundation

/// Where a notification points people: the check's page on the status page when the alert has a
/// `check` label, else the status page itself; the evaluator's own URL when no `external_url` is
/// configured.
enum StatusPageLink {
    static func url(for alert: AlertNotification, externalURL: String?) -> String? {
        guard let base = externalURL.map({ $0.hasSuffix("/") ? String($0.dropLast()) : $0 }), !base.isEmpty else {
            return alert.generatorURL.isEmpty ? nil : alert.generatorURL
        }
        guard let check = alert.labels["check"], !check.isEmpty else { return base }
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return base + "/checks/" + (check.addingPercentEncoding(withAllowedCharacters: allowed) ?? check)
    }
}

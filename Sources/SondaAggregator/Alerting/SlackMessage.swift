import Foundation

/// A Slack incoming-webhook message for one round's alerts: `{"text": …}` in Slack's mrkdwn, one
/// paragraph per alert (status, severity, alertname, summary, check and region, a link to the
/// status page), at most `limit` alerts and a count of the rest.
enum SlackMessage {
    struct Body: Codable {
        var text: String
    }

    static let limit = 20

    static func body(_ alerts: [AlertNotification], externalURL: String?) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Body(text: text(alerts, externalURL: externalURL)))
    }

    static func text(_ alerts: [AlertNotification], externalURL: String?) -> String {
        var paragraphs = alerts.prefix(limit).map { paragraph($0, externalURL: externalURL) }
        if alerts.count > limit { paragraphs.append("… and \(alerts.count - limit) more") }
        return paragraphs.joined(separator: "\n\n")
    }

    static func paragraph(_ alert: AlertNotification, externalURL: String?) -> String {
        let severity = alert.labels["severity"] ?? "unknown"
        let name = alert.labels["alertname"] ?? "alert"
        let head =
            alert.status == .resolved
            ? ":white_check_mark: *RESOLVED* \(escape(name)) (\(escape(severity)))"
            : "\(icon(severity)) *FIRING* \(escape(name)) (\(escape(severity)))"
        var lines = [head]
        if let summary = alert.annotations["summary"], !summary.isEmpty { lines.append(escape(summary)) }
        var facts: [String] = []
        for key in ["check", "region", "regions", "profile", "agent"] {
            if let value = alert.labels[key], !value.isEmpty { facts.append("\(key) `\(escape(value))`") }
        }
        if let link = StatusPageLink.url(for: alert, externalURL: externalURL) {
            facts.append("<\(escape(link))|status page>")
        }
        if !facts.isEmpty { lines.append(facts.joined(separator: " · ")) }
        return lines.joined(separator: "\n")
    }

    static func icon(_ severity: String) -> String {
        switch severity {
        case "critical": ":rotating_light:"
        case "high": ":red_circle:"
        case "medium": ":large_orange_circle:"
        default: ":large_yellow_circle:"
        }
    }

    /// Slack's three control characters in mrkdwn text.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

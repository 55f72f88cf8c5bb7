import Foundation

/// Active alerts, most severe and then oldest first, each with its severity as a word and a colour.
struct AlertSection {
    var alerts: [AlertNotification]
    var now: Date
    /// Set when the alert source failed: the page still renders, saying so.
    var failure: String?
    var links: StatusLinks

    static let severityRank = ["critical": 0, "high": 1, "medium": 2, "low": 3]
    static let shownLabels = ["check", "class", "region", "regions", "profile", "agent"]

    var firing: [AlertNotification] {
        alerts.filter { $0.status == .firing }.sorted {
            let a = Self.severityRank[$0.labels["severity"] ?? ""] ?? 4
            let b = Self.severityRank[$1.labels["severity"] ?? ""] ?? 4
            return (a, $0.startsAt) < (b, $1.startsAt)
        }
    }

    func render() -> HTML {
        let firing = self.firing
        var html: HTML = "<section id=\"alerts\"><h2>Active alerts <small>\(firing.count) firing</small></h2>"
        if let failure {
            html += "<p class=\"empty\">✕ Alerts could not be read: \(failure)</p>"
        } else if firing.isEmpty {
            html += "<p class=\"empty\">✓ Nothing firing.</p>"
        }
        let items: [HTML] = firing.map { alert in
            let severity = Self.severityRank[alert.labels["severity"] ?? ""] != nil ? alert.labels["severity"]! : "low"
            let labels: [HTML] = Self.shownLabels.compactMap { key in
                alert.labels[key].map { value in
                    key == "check" ? "check=<a href=\"\(links.check(value))\">\(value)</a>" : "\(key)=\(value)"
                }
            }
            let summary = alert.annotations["summary"] ?? alert.annotations["description"] ?? ""
            return """
                <li class="sev-\(severity)" data-alert="\(alert.labels["alertname"] ?? "")">\
                <span class="badge sevb-\(severity)">\(severity == "critical" ? "‼" : "!") \(alert.labels["severity"] ?? "unknown")</span>\
                <b>\(alert.labels["alertname"] ?? "alert")</b><span>\(summary)</span>\
                <span class="labels">\(labels.map { $0 + " · " }.joined())since \
                \(StatusFormat.ago(seconds: now.timeIntervalSince(alert.startsAt)))</span></li>
                """
        }
        if !items.isEmpty { html += "<ul class=\"alerts\">\(items)</ul>" }
        return html + "</section>"
    }
}

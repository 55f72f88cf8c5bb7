import Foundation
import SondaCore

/// Certificate expiry per check and host, from the TLS report in each check's latest raw
/// results: the newest result per agent, and the earliest expiry among them (agents behind
/// different load balancers may see different certificates). The client certificate a check
/// presents (mutual TLS) has a row of its own, its host named `client certificate · NAME`.
public struct CertificateExpiry: Sendable {
    struct Entry: Hashable {
        var check: String
        /// The leaf's first SAN, or its subject when it has none.
        var host: String
        var earliestExpiry: Date
        var version: String
        var agents: Int
        var observedAt: Date

        func daysLeft(now: Date) -> Double { earliestExpiry.timeIntervalSince(now) / 86_400 }
    }

    var entries: [Entry]

    /// How many of a check's newest results are read: enough to cover every agent and profile.
    static let latestResults = 60

    /// One of a check's newest results as the stores read it: the TLS report's earliest expiry
    /// (RFC 3339), the leaf's first SAN or else its subject, the negotiated version, and the
    /// client certificate's subject and expiry.
    struct Observation {
        var agent: String
        var startedAtMilliseconds: Int64
        var earliestExpiry: String?
        var leafName: String?
        var version: String?
        var clientSubject: String? = nil
        var clientExpiry: String? = nil
    }

    /// The entries of one check from its newest results, newest first: the newest result per agent
    /// that has a TLS report (then: a client certificate), grouped by host, with the earliest
    /// expiry among them.
    static func entries(check: String, newestFirst observations: [Observation]) -> [Entry] {
        entries(check: check, newestFirst: observations) { ($0.earliestExpiry, host($0.leafName ?? "")) }
            + entries(check: check, newestFirst: observations) {
                ($0.clientExpiry, "client certificate · \(host($0.clientSubject ?? ""))")
            }
    }

    private static func entries(
        check: String, newestFirst observations: [Observation], _ certificate: (Observation) -> (String?, String)
    ) -> [Entry] {
        var newestPerAgent: [String: (host: String, expiry: Date, version: String, at: Date)] = [:]
        for o in observations {
            let (text, host) = certificate(o)
            guard newestPerAgent[o.agent] == nil, let text, let expiry = Timestamp.parse(text) else { continue }
            newestPerAgent[o.agent] = (
                host, expiry, o.version ?? "", Date(timeIntervalSince1970: Double(o.startedAtMilliseconds) / 1000)
            )
        }
        return Dictionary(grouping: newestPerAgent.values, by: \.host).map { host, seen in
            let earliest = seen.min { $0.expiry < $1.expiry }!
            return Entry(
                check: check, host: host, earliestExpiry: earliest.expiry, version: earliest.version,
                agents: seen.count, observedAt: seen.map(\.at).max()!)
        }
    }

    /// A version below TLS 1.3 (the fleet's policy minimum) is flagged.
    func versionCell(_ version: String) -> HTML {
        guard let rank = TLSReport.rank(ofVersion: version), rank < TLSReport.rank(ofVersion: "TLSv1.3")! else {
            return "\(version)"
        }
        return StateBadge.badge(.violated, version)
    }

    /// "CN=api.example, O=Example" → "api.example"; a SAN is used as is.
    static func host(_ text: String) -> String {
        guard text.contains("=") else { return text }
        for part in text.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("CN=") { return String(trimmed.dropFirst(3)) }
        }
        return text
    }

    func render(now: Date, warningDays: Double, criticalDays: Double) -> HTML {
        var html: HTML = """
            <section id="certificates"><h2>Certificate expiry <small>earliest expiry in the chain, from each check's \
            latest results · warning under \(Int(warningDays)) d, critical under \(Int(criticalDays)) d</small></h2>
            """
        guard !entries.isEmpty else { return html + "<p class=\"empty\">No TLS results yet.</p></section>" }
        let rows: [HTML] = entries.map { entry in
            let days = entry.daysLeft(now: now)
            let state: BudgetState = days < criticalDays ? .violated : (days < warningDays ? .degraded : .ok)
            let word =
                days < 0 ? "expired" : (days < criticalDays ? "critical" : (days < warningDays ? "warning" : "ok"))
            return """
                <tr data-cert="\(entry.check)"><td>\(entry.check)</td><td>\(entry.host)</td>\
                <td>\(StatusFormat.timestamp(entry.earliestExpiry).prefix(10))</td>\
                <td class="num">\(StateBadge.badge(state, "\(String(format: "%.0f", days.rounded(.down))) d · \(word)"))</td>\
                <td>\(versionCell(entry.version))</td><td class="num">\(entry.agents)</td>\
                <td>\(StatusFormat.ago(seconds: now.timeIntervalSince(entry.observedAt)))</td></tr>
                """
        }
        html += """
            <div class="scroll"><table><thead><tr><th>check</th><th>host</th><th>expires (UTC)</th>\
            <th class="num">days left</th><th>TLS</th><th class="num">agents</th><th>observed</th></tr></thead>
            <tbody>\(rows)</tbody></table></div></section>
            """
        return html
    }
}

extension CertificateExpiry {
    /// Soonest expiry first.
    init(unsorted entries: [Entry]) {
        self.init(entries: entries.sorted { ($0.earliestExpiry, $0.check) < ($1.earliestExpiry, $1.check) })
    }
}

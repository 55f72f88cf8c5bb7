import Foundation

/// A check's latest failed probes from the raw results, newest first. The minutes to read are
/// found in the minute outcomes first (one index seek per minute × region × profile), so a check
/// that rarely fails does not cost a scan of all its results.
public struct CheckFailures: Sendable {
    struct Failure: Hashable {
        var at: Date
        var agent: String
        var region: String
        var profile: String
        var step: String?
        var code: String
        var message: String
        var httpStatus: Int?
    }

    var failures: [Failure]

    func render(now: Date, window: String) -> HTML {
        var html: HTML = "<section id=\"failures\"><h2>Latest failures <small>newest first, last \(window)</small></h2>"
        guard !failures.isEmpty else {
            return html + "<p class=\"empty\">✓ No failed probes in the last \(window).</p></section>"
        }
        let rows: [HTML] = failures.map { f in
            """
            <tr class="failure"><td title="\(StatusFormat.timestamp(f.at))">\(StatusFormat.ago(seconds: now.timeIntervalSince(f.at)))</td>\
            <td><span class="badge s-violated">✕ \(f.code)</span></td><td class="wrap">\(f.message)</td>\
            <td class="num">\(f.httpStatus.map(String.init) ?? "–")</td><td>\(f.region)</td><td>\(f.profile)</td>\
            <td>\(f.agent)</td><td>\(f.step ?? "–")</td></tr>
            """
        }
        html += """
            <div class="scroll"><table><thead><tr><th>when</th><th>code</th><th>message</th><th class="num">HTTP</th>\
            <th>region</th><th>profile</th><th>agent</th><th>step</th></tr></thead><tbody>\(rows)</tbody></table></div></section>
            """
        return html
    }
}

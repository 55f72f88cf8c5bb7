import Foundation
import GRDB

/// A check's latest failed probes from the raw results, newest first. The minutes to read are
/// found in the minute outcomes first (one index seek per minute × region × profile), so a check
/// that rarely fails does not cost a scan of all its results.
struct CheckFailures {
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

    static func load(
        check: String, regions: [String], profiles: [String], fromMinute: Int64, toMinute: Int64, limit: Int,
        in db: Database
    ) throws -> CheckFailures {
        guard !regions.isEmpty, !profiles.isEmpty else { return CheckFailures(failures: []) }
        let marks = { (n: Int) in Array(repeating: "?", count: n).joined(separator: ", ") }
        var arguments: StatementArguments = [fromMinute, toMinute]
        arguments += StatementArguments(regions)
        arguments += StatementArguments(profiles)
        arguments += [check]
        let minutes = try Int64.fetchAll(
            db,
            sql: """
                WITH RECURSIVE m(minute) AS (SELECT ? UNION ALL SELECT minute + 1 FROM m WHERE minute < ?)
                SELECT DISTINCT minute FROM outcome_minute
                WHERE minute IN (SELECT minute FROM m) AND region IN (\(marks(regions.count)))
                AND profile IN (\(marks(profiles.count))) AND check_name = ? AND error_code != ''
                ORDER BY minute DESC
                """, arguments: arguments)
        let statement = try db.cachedStatement(
            sql: """
                SELECT started_at_ms, agent, region, profile, step, error_code,
                    json_extract(json, '$.error.message'), json_extract(json, '$.http.status')
                FROM results WHERE check_name = ? AND started_at_ms >= ? AND started_at_ms < ? AND ok = 0
                ORDER BY started_at_ms DESC LIMIT ?
                """)
        let profileSet = Set(profiles)
        var failures: [Failure] = []
        for minute in minutes where failures.count < limit {
            let rows = try Row.fetchAll(
                statement, arguments: [check, minute * 60_000, (minute + 1) * 60_000, limit - failures.count])
            for row in rows where profileSet.contains(row[3]) {
                failures.append(
                    Failure(
                        at: Date(timeIntervalSince1970: Double(row[0] as Int64) / 1000), agent: row[1], region: row[2],
                        profile: row[3], step: row[4], code: row[5] as String? ?? "internal",
                        message: row[6] as String? ?? "",
                        httpStatus: row[7]))
            }
        }
        return CheckFailures(failures: failures)
    }

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

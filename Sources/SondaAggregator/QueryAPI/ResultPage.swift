import Foundation
import GRDB

/// `GET /v1/checks/{name}/results?limit=N&before=CURSOR`: a check's raw results, newest first.
/// The cursor is opaque to clients ("<started_at ms>:<id>"); `next` is null on the last page.
enum ResultPage {
    static func page(check: String, limit: Int, before cursor: String?, in db: Database) throws -> String {
        var sql = "SELECT started_at_ms, id, json FROM results WHERE check_name = ?"
        var arguments: StatementArguments = [check]
        if let cursor {
            let parts = cursor.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let ms = Int64(parts[0]) else {
                throw AggregatorError.badParameter("before", "not a cursor this server returned")
            }
            sql += " AND (started_at_ms < ? OR (started_at_ms = ? AND id < ?))"
            arguments += [ms, ms, String(parts[1])]
        }
        sql += " ORDER BY started_at_ms DESC, id DESC LIMIT ?"
        arguments += [limit + 1]
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { "\"\($0[0] as Int64):\($0[1] as String)\"" } : nil
        let results = shown.map { $0[2] as String }.joined(separator: ",")
        let checkJSON = String(decoding: try JSONEncoder().encode(check), as: UTF8.self)
        return #"{"check":\#(checkJSON),"next":\#(next ?? "null"),"results":[\#(results)]}"#
    }
}

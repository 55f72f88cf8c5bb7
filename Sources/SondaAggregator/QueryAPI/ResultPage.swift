import Foundation

/// `GET /v1/checks/{name}/results?limit=N&cursor=CURSOR`: a check's raw results, newest first.
/// The cursor is opaque to clients ("<started_at ms>:<id>"); `next` is null on the last page, and
/// `next_cursor` (the same cursor, named as on the other list endpoints) is there only while more
/// remain. `before` is the cursor's older name.
enum ResultPage {
    /// `before`: the cursor and the parameter it came in, for the 400 when it is not one.
    static func page(
        check: String, limit: Int, before: (parameter: String, text: String)?, from store: any AggregatorStore
    ) async throws -> String {
        var cursor: ResultCursor?
        if let before {
            let parts = before.text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let ms = Int64(parts[0]) else {
                throw AggregatorError.badParameter(before.parameter, "not a cursor this server returned")
            }
            cursor = ResultCursor(startedAtMilliseconds: ms, id: String(parts[1]))
        }
        let rows = try await store.results(check: check, before: cursor, limit: limit + 1)
        let shown = rows.prefix(limit)
        let next =
            rows.count > limit ? shown.last.map { "\"\($0.cursor.startedAtMilliseconds):\($0.cursor.id)\"" } : nil
        let results = shown.map(\.json).joined(separator: ",")
        let checkJSON = String(decoding: try JSONEncoder().encode(check), as: UTF8.self)
        let nextCursor = next.map { #","next_cursor":\#($0)"# } ?? ""
        return #"{"check":\#(checkJSON),"next":\#(next ?? "null")\#(nextCursor),"results":[\#(results)]}"#
    }
}

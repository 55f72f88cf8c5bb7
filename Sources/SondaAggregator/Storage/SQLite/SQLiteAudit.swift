import Foundation
import GRDB

/// The audit chain's table on SQLite.
enum SQLiteAudit {
    /// Appends an entry; call inside the transaction that does what the entry records.
    static func append(kind: String, detail: String, at date: Date, in db: Database) throws {
        let previous =
            try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1") ?? AuditLog.genesis
        let at = Int64(date.timeIntervalSince1970 * 1000)
        try db.execute(
            sql: "INSERT INTO audit (at_ms, kind, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                at, kind, detail, previous,
                AuditLog.hash(previous: previous, atMilliseconds: at, kind: kind, detail: detail),
            ])
    }

    /// Walks the chain from the first entry, noting the head hash at each count in `noting`.
    static func verify(in db: Database, noting: Set<Int> = []) throws -> AuditLog.Verification {
        var walk = AuditLog.Walk(noting: noting)
        let rows = try Row.fetchCursor(
            db, sql: "SELECT seq, at_ms, kind, detail, prev_hash, hash FROM audit ORDER BY seq")
        while let row = try rows.next() {
            guard
                walk.step(
                    seq: row["seq"], atMilliseconds: row["at_ms"], kind: row["kind"], detail: row["detail"],
                    prev: row["prev_hash"], hash: row["hash"])
            else { break }
        }
        return walk.result()
    }

    /// How many entries the chain has and the last one's hash, read in one statement.
    static func head(in db: Database) throws -> AuditLog.Head {
        let row = try Row.fetchOne(
            db, sql: "SELECT count(*) AS entries, (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) AS hash FROM audit"
        )
        return AuditLog.Head(entries: row?["entries"] ?? 0, hash: row?["hash"])
    }
}

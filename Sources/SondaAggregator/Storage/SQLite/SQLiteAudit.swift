import Foundation
import GRDB

/// The audit chain's table on SQLite.
enum SQLiteAudit {
    /// Appends an entry; call inside the transaction that does what the entry records.
    static func append(kind: String, detail: String, at date: Date, in db: Database) throws {
        let previous = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1") ?? AuditLog.genesis
        let at = Int64(date.timeIntervalSince1970 * 1000)
        try db.execute(
            sql: "INSERT INTO audit (at_ms, kind, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                at, kind, detail, previous,
                AuditLog.hash(previous: previous, atMilliseconds: at, kind: kind, detail: detail),
            ])
    }

    /// Walks the chain from the first entry.
    static func verify(in db: Database) throws -> AuditLog.Verification {
        var previous = AuditLog.genesis
        var entries = 0
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, at_ms, kind, detail, prev_hash, hash FROM audit ORDER BY seq")
        while let row = try rows.next() {
            entries += 1
            let seq: Int64 = row["seq"]
            let stored: String = row["hash"]
            guard row["prev_hash"] == previous else {
                return .init(entries: entries, firstBroken: (seq, "its previous-hash does not match entry before it"))
            }
            let expected = AuditLog.hash(
                previous: previous, atMilliseconds: row["at_ms"], kind: row["kind"], detail: row["detail"])
            guard expected == stored else {
                return .init(entries: entries, firstBroken: (seq, "its contents do not match its hash"))
            }
            previous = stored
        }
        return .init(entries: entries, firstBroken: nil)
    }
}

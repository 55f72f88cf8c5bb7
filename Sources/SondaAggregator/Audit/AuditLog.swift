import Crypto
import Foundation
import GRDB

/// An append-only hash chain in the database: each entry's hash is SHA-256 over the previous hash
/// and the entry's own fields, so changing any stored byte breaks the chain from that entry on.
public enum AuditLog {
    static let genesis = String(repeating: "0", count: 64)

    public static func digest(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func hash(previous: String, atMilliseconds: Int64, kind: String, detail: String) -> String {
        digest(Data("\(previous)\n\(atMilliseconds)\n\(kind)\n\(detail)".utf8))
    }

    /// Appends an entry; call inside the transaction that does what the entry records.
    public static func append(kind: String, detail: String, at date: Date, in db: Database) throws {
        let previous = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1") ?? genesis
        let at = Int64(date.timeIntervalSince1970 * 1000)
        try db.execute(
            sql: "INSERT INTO audit (at_ms, kind, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
            arguments: [at, kind, detail, previous, hash(previous: previous, atMilliseconds: at, kind: kind, detail: detail)])
    }

    public struct Verification: Sendable, Hashable {
        public var entries: Int
        /// The first entry whose stored fields no longer hash to the chain, and why.
        public var firstBroken: (seq: Int64, reason: String)?

        public static func == (a: Self, b: Self) -> Bool {
            a.entries == b.entries && a.firstBroken?.seq == b.firstBroken?.seq
        }
        public func hash(into hasher: inout Hasher) { hasher.combine(entries) }
    }

    /// Walks the chain from the first entry.
    public static func verify(in db: Database) throws -> Verification {
        var previous = genesis
        var entries = 0
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, at_ms, kind, detail, prev_hash, hash FROM audit ORDER BY seq")
        while let row = try rows.next() {
            entries += 1
            let seq: Int64 = row["seq"]
            let stored: String = row["hash"]
            guard row["prev_hash"] == previous else {
                return Verification(entries: entries, firstBroken: (seq, "its previous-hash does not match entry before it"))
            }
            let expected = hash(previous: previous, atMilliseconds: row["at_ms"], kind: row["kind"], detail: row["detail"])
            guard expected == stored else {
                return Verification(entries: entries, firstBroken: (seq, "its contents do not match its hash"))
            }
            previous = stored
        }
        return Verification(entries: entries, firstBroken: nil)
    }
}

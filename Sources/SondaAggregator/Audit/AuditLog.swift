import Crypto
import Foundation

/// An append-only hash chain in the database (each store keeps its own table): each entry's hash is
/// SHA-256 over the previous hash and the entry's own fields, so changing any stored byte breaks the
/// chain from that entry on.
public enum AuditLog {
    static let genesis = String(repeating: "0", count: 64)

    public static func digest(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func hash(previous: String, atMilliseconds: Int64, kind: String, detail: String) -> String {
        digest(Data("\(previous)\n\(atMilliseconds)\n\(kind)\n\(detail)".utf8))
    }

    public struct Verification: Sendable, Hashable {
        public var entries: Int
        /// The first entry whose stored fields no longer hash to the chain, and why.
        public var firstBroken: (seq: Int64, reason: String)?
        /// Batch entries stored but not yet linked onto the chain (PostgreSQL links them within a
        /// second or two; always 0 on SQLite).
        public var queued: Int = 0

        public init(entries: Int, firstBroken: (seq: Int64, reason: String)?, queued: Int = 0) {
            self.entries = entries
            self.firstBroken = firstBroken
            self.queued = queued
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.entries == b.entries && a.firstBroken?.seq == b.firstBroken?.seq && a.queued == b.queued
        }
        public func hash(into hasher: inout Hasher) { hasher.combine(entries) }
    }
}

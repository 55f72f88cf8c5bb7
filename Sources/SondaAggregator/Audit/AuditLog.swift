import Crypto
import Foundation

/// An append-only hash chain in the database (each store keeps its own table): each entry's hash is
/// SHA-256 over the previous hash and the entry's own fields, so changing any stored byte breaks the
/// chain from that entry on. Signed checkpoints of its head (`AuditCheckpoint`), kept outside the
/// database, show when the chain was rebuilt or cut after the fact.
public enum AuditLog {
    static let genesis = String(repeating: "0", count: 64)

    public static func digest(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func hash(previous: String, atMilliseconds: Int64, kind: String, detail: String) -> String {
        digest(Data("\(previous)\n\(atMilliseconds)\n\(kind)\n\(detail)".utf8))
    }

    /// The chain's end as a checkpoint signs it: how many entries, and the last one's hash (the
    /// genesis hash when there is none).
    public struct Head: Sendable, Hashable {
        public var entries: Int
        public var hash: String

        public init(entries: Int, hash: String?) {
            self.entries = entries
            self.hash = hash ?? AuditLog.genesis
        }
    }

    public struct Verification: Sendable, Hashable {
        public var entries: Int
        /// The first entry whose stored fields no longer hash to the chain, and why.
        public var firstBroken: (seq: Int64, reason: String)?
        /// Batch entries stored but not yet linked onto the chain (PostgreSQL links them within a
        /// second or two; always 0 on SQLite).
        public var queued: Int = 0
        /// The head hash after the first n entries, for each n the walk was asked to note that the
        /// intact part of the chain has (a checkpoint's count).
        public var hashes: [Int: String] = [:]

        public init(entries: Int, firstBroken: (seq: Int64, reason: String)?, queued: Int = 0) {
            self.entries = entries
            self.firstBroken = firstBroken
            self.queued = queued
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.entries == b.entries && a.firstBroken?.seq == b.firstBroken?.seq && a.queued == b.queued
                && a.hashes == b.hashes
        }
        public func hash(into hasher: inout Hasher) { hasher.combine(entries) }
    }

    /// A walk along the chain from its first entry, in order of `seq`, as both stores read it:
    /// feed it each row until it finds one that does not fit.
    struct Walk {
        private var previous = AuditLog.genesis
        private var verification = Verification(entries: 0, firstBroken: nil)
        private let noting: Set<Int>

        /// `noting`: the counts whose head hash the result keeps (`Verification.hashes`).
        init(noting: Set<Int>) {
            self.noting = noting
            if noting.contains(0) { verification.hashes[0] = AuditLog.genesis }
        }

        /// Takes the next row; false when it broke the chain (the walk is over then).
        mutating func step(seq: Int64, atMilliseconds: Int64, kind: String, detail: String, prev: String, hash: String)
            -> Bool
        {
            verification.entries += 1
            guard prev == previous else {
                verification.firstBroken = (seq, "its previous-hash does not match entry before it")
                return false
            }
            guard AuditLog.hash(previous: previous, atMilliseconds: atMilliseconds, kind: kind, detail: detail) == hash
            else {
                verification.firstBroken = (seq, "its contents do not match its hash")
                return false
            }
            previous = hash
            if noting.contains(verification.entries) { verification.hashes[verification.entries] = hash }
            return true
        }

        func result(queued: Int = 0) -> Verification {
            var result = verification
            result.queued = queued
            return result
        }
    }
}

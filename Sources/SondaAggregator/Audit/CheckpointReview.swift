import Crypto
import Foundation
import SondaKeys

/// Holds signed checkpoints against the audit chain as the database has it now (`audit verify
/// --checkpoints`). A checkpoint counts only when a trusted key signed it; then the chain must
/// still have at least its count of entries (else it was truncated), and its first that many
/// entries must end in the hash it signed (else an entry was changed and the chain recomputed).
/// Entries after the latest checkpoint are normal while `serve` runs, and only warned about
/// unless the head must be signed (after an orderly stop).
public struct CheckpointReview {
    /// What the review found; `code` is the exit status it gives (the smallest wins).
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Int32, Sendable {
            case broken = 1
            case truncated, rewritten, badSignature, unsignedHead, unreadable
        }
        public var kind: Kind
        public var message: String
        public var code: Int32 { kind.rawValue }
        public var description: String { message }
    }

    /// Where a checkpoint was read: `file:line`.
    public struct Signed: Sendable {
        public var place: String
        public var checkpoint: AuditCheckpoint
    }

    public private(set) var signed: [Signed] = []
    public private(set) var findings: [Finding] = []
    /// How many lines held a checkpoint, signed or not.
    public private(set) var read = 0
    private let keys: [String: Curve25519.Signing.PublicKey]
    /// Findings of one kind past this many are summed up in one line.
    static let listed = 5

    public init(keys: [Curve25519.Signing.PublicKey]) {
        self.keys = Dictionary(keys.map { (Ed25519KeyFile.keyID($0), $0) }) { a, _ in a }
    }

    /// The key ids of the keys checkpoints are checked with.
    public var keyIDs: [String] { keys.keys.sorted() }

    /// The counts the trusted checkpoints signed: the chain's walk notes its head at each.
    public var signedCounts: Set<Int> { Set(signed.map(\.checkpoint.entries)) }

    /// Reads every line of a checkpoints file's `text`, named `file`; empty lines are skipped.
    public mutating func read(_ text: String, file: String) {
        var unsigned: [String] = []
        var unreadable: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            let place = "\(file):\(index + 1)"
            let checkpoint: AuditCheckpoint
            do {
                checkpoint = try AuditCheckpoint(line: line)
            } catch {
                unreadable.append("\(place) is not a checkpoint: \(error)")
                continue
            }
            read += 1
            if let key = keys[checkpoint.keyID], checkpoint.isSigned(by: key) {
                signed.append(Signed(place: place, checkpoint: checkpoint))
            } else if keys[checkpoint.keyID] != nil {
                unsigned.append(
                    "checkpoint \(place) does not verify with key \(checkpoint.keyID): it was forged or altered")
            } else {
                unsigned.append(
                    "checkpoint \(place) was signed by key \(checkpoint.keyID), not by "
                        + (keyIDs.count == 1
                            ? "the given key \(keyIDs[0])" : "any given key (\(keyIDs.joined(separator: ", ")))"))
            }
        }
        findings += Self.summed(unsigned, kind: .badSignature, what: "checkpoints that do not verify")
        findings += Self.summed(unreadable, kind: .unreadable, what: "lines that are not checkpoints")
    }

    /// The findings about `chain` (walked noting `signedCounts`), after those of reading. With
    /// `requireSignedHead`, entries after the latest checkpoint are an error, not a warning.
    public func review(_ chain: AuditLog.Verification, requireSignedHead: Bool) -> (
        findings: [Finding], warnings: [String]
    ) {
        var found: [Finding] = []
        var warnings: [String] = []
        if let broken = chain.firstBroken {
            found.append(.init(kind: .broken, message: "audit chain broken at entry \(broken.seq): \(broken.reason)"))
        }
        // With a broken chain, only checkpoints of its intact part can be compared.
        let intact = chain.firstBroken == nil ? chain.entries : chain.entries - 1
        let byCount = signed.sorted { $0.checkpoint.entries < $1.checkpoint.entries }
        if chain.firstBroken == nil, let longest = byCount.last, longest.checkpoint.entries > chain.entries {
            found.append(
                .init(
                    kind: .truncated,
                    message: "audit chain truncated: it has \(chain.entries) entries, but checkpoint \(longest.place) "
                        + "(\(longest.checkpoint.at)) signed \(longest.checkpoint.entries)"))
        }
        let comparable = byCount.filter { $0.checkpoint.entries <= intact }
        if let first = comparable.firstIndex(where: { chain.hashes[$0.checkpoint.entries] != $0.checkpoint.head }) {
            let bad = comparable[first]
            let agreeing = comparable[..<first].last { $0.checkpoint.entries < bad.checkpoint.entries }
            let from = (agreeing?.checkpoint.entries ?? 0) + 1
            let others = comparable[(first + 1)...].count { chain.hashes[$0.checkpoint.entries] != $0.checkpoint.head }
            found.append(
                .init(
                    kind: .rewritten,
                    message: "audit chain rewritten: its first \(bad.checkpoint.entries) entries no longer end in the "
                        + "hash that checkpoint \(bad.place) (\(bad.checkpoint.at)) signed; an entry from \(from) to "
                        + "\(bad.checkpoint.entries) was changed and the hashes after it recomputed"
                        + (others == 0 ? "" : " (\(others) later checkpoint\(others == 1 ? "" : "s") disagree too)")))
        }
        let latest = byCount.last?.checkpoint.entries ?? 0
        if chain.firstBroken == nil, chain.entries > latest {
            let count = chain.entries - latest
            let text =
                "\(count) entr\(count == 1 ? "y" : "ies") after the latest checkpoint \(count == 1 ? "is" : "are") "
                + "not signed" + (signed.isEmpty ? " (no checkpoint verified)" : "")
            if requireSignedHead {
                found.append(.init(kind: .unsignedHead, message: text))
            } else {
                warnings.append(text + "; normal while serve runs (--require-signed-head makes it an error)")
            }
        }
        return (found + findings, warnings)
    }

    /// The first `listed` messages, and one line for the rest.
    static func summed(_ messages: [String], kind: Finding.Kind, what: String) -> [Finding] {
        var findings = messages.prefix(listed).map { Finding(kind: kind, message: $0) }
        if messages.count > listed {
            findings.append(.init(kind: kind, message: "and \(messages.count - listed) more \(what)"))
        }
        return findings
    }
}

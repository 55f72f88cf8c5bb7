import Crypto
import Foundation
import SondaAggregator
import Testing

/// What `audit verify --checkpoints` concludes from signed checkpoints and the chain's walk: each
/// kind of tampering gives its own finding and exit code, and entries after the latest
/// checkpoint are only a warning unless the head must be signed.
@Suite struct CheckpointReviewTests {
    /// A fixed key (swift-crypto's keys are not Sendable, so not stored in a static).
    static var key: Curve25519.Signing.PrivateKey {
        try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))
    }
    static let at = Date(timeIntervalSince1970: 1_795_000_000)
    static func hash(_ n: Int) -> String { String(format: "%064x", n) }

    /// Checkpoints signing the heads of 1 and 3 entries, as a file of two lines.
    static func file(key: Curve25519.Signing.PrivateKey = key) throws -> String {
        try [1, 3].map {
            try AuditCheckpoint(entries: $0, head: hash($0), at: at, reason: .interval, key: key).line + "\n"
        }.joined()
    }

    static func chain(entries: Int, hashes: [Int: String], brokenAt: Int64? = nil) -> AuditLog.Verification {
        var chain = AuditLog.Verification(
            entries: entries, firstBroken: brokenAt.map { ($0, "its contents do not match its hash") })
        chain.hashes = hashes
        return chain
    }

    static func review(_ text: String, _ chain: AuditLog.Verification, requireSignedHead: Bool = false) -> (
        findings: [CheckpointReview.Finding], warnings: [String]
    ) {
        var review = CheckpointReview(keys: [key.publicKey])
        review.read(text, file: "trail.jsonl")
        return review.review(chain, requireSignedHead: requireSignedHead)
    }

    @Test func aChainThatAgreesPassesAndItsUnsignedTailIsAWarningUnlessRequired() throws {
        var review = CheckpointReview(keys: [Self.key.publicKey])
        review.read(try Self.file(), file: "trail.jsonl")
        #expect(review.signedCounts == [1, 3] && review.read == 2)
        let chain = Self.chain(entries: 5, hashes: [1: Self.hash(1), 3: Self.hash(3)])
        let relaxed = review.review(chain, requireSignedHead: false)
        #expect(relaxed.findings.isEmpty)
        #expect(
            relaxed.warnings == [
                "2 entries after the latest checkpoint are not signed; normal while serve runs (--require-signed-head makes it an error)"
            ])
        let strict = review.review(chain, requireSignedHead: true)
        #expect(strict.findings.map(\.code) == [5] && strict.warnings.isEmpty)
        #expect(
            review.review(Self.chain(entries: 3, hashes: [1: Self.hash(1), 3: Self.hash(3)]), requireSignedHead: true)
                .findings.isEmpty)
    }

    @Test func aShorterChainIsTruncated() throws {
        let (findings, _) = Self.review(try Self.file(), Self.chain(entries: 2, hashes: [1: Self.hash(1)]))
        #expect(findings.map(\.code) == [2])
        #expect(
            findings.first?.message
                == "audit chain truncated: it has 2 entries, but checkpoint trail.jsonl:2 (2026-11-18T11:06:40.000Z) signed 3"
        )
    }

    @Test func aRecomputedChainIsRewrittenBetweenTheLastAgreeingCheckpointAndTheFirstDisagreeing() throws {
        let (findings, _) = Self.review(
            try Self.file(), Self.chain(entries: 4, hashes: [1: Self.hash(1), 3: Self.hash(9)]))
        #expect(findings.map(\.code) == [3])
        #expect(
            findings.first?.message.contains(
                "its first 3 entries no longer end in the hash that checkpoint trail.jsonl:2") == true)
        #expect(findings.first?.message.contains("an entry from 2 to 3 was changed") == true, "\(findings)")
        let all = Self.review(try Self.file(), Self.chain(entries: 4, hashes: [1: Self.hash(8), 3: Self.hash(9)]))
            .findings
        #expect(
            all.first?.message.contains("from 1 to 1") == true
                && all.first?.message.hasSuffix("(1 later checkpoint disagree too)") == true, "\(all)")
    }

    @Test func forgedLinesAndLinesOfAnotherKeyDoNotVerifyAndACutLineIsNoCheckpoint() throws {
        let lines = try Self.file().split(separator: "\n").map(String.init)
        let forged = lines[1].replacingOccurrences(of: #""entries":3"#, with: #""entries":30"#)
        let other = try Self.file(key: Curve25519.Signing.PrivateKey()).split(separator: "\n")[0]
        let text = [lines[0], forged, String(other), String(lines[1].prefix(70))].joined(separator: "\n")
        var review = CheckpointReview(keys: [Self.key.publicKey])
        review.read(text, file: "trail.jsonl")
        #expect(review.read == 3 && review.signedCounts == [1])
        let (findings, warnings) = review.review(
            Self.chain(entries: 3, hashes: [1: Self.hash(1)]), requireSignedHead: false)
        #expect(findings.map(\.code) == [4, 4, 6], "\(findings)")
        #expect(
            findings[0].message
                == "checkpoint trail.jsonl:2 does not verify with key \(review.keyIDs[0]): it was forged or altered")
        #expect(findings[1].message.hasPrefix("checkpoint trail.jsonl:3 was signed by key "))
        #expect(findings[1].message.hasSuffix(", not by the given key \(review.keyIDs[0])"))
        #expect(
            findings[2].message.hasPrefix("trail.jsonl:4 is not a checkpoint: not a whole JSON object"),
            "\(findings[2])")
        #expect(warnings.first?.hasPrefix("2 entries after the latest checkpoint") == true)
    }

    @Test func aBrokenChainIsComparedOnlyBeforeTheBreak() throws {
        let (findings, warnings) = Self.review(
            try Self.file(), Self.chain(entries: 2, hashes: [1: Self.hash(1)], brokenAt: 2))
        #expect(findings.map(\.code) == [1] && warnings.isEmpty, "\(findings)")
        let rewritten = Self.review(try Self.file(), Self.chain(entries: 2, hashes: [1: Self.hash(7)], brokenAt: 2))
            .findings
        #expect(rewritten.map(\.code) == [1, 3])
    }
}

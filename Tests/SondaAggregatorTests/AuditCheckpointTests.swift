import Crypto
import Foundation
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// Signed checkpoints of the audit chain's head: the line they are written as, the head both
/// stores read, the service that writes them (and its fault when it cannot), and the review that
/// holds them against the chain.
@Suite struct AuditCheckpointTests {
    static let head = String(repeating: "ab", count: 32)

    @Test func aCheckpointLineVerifiesOnlyUnchangedAndWithItsKey() throws {
        let key = Curve25519.Signing.PrivateKey()
        let date = Date(timeIntervalSince1970: 1_795_000_000.25)
        let checkpoint = try AuditCheckpoint(entries: 27, head: Self.head, at: date, reason: .interval, key: key)
        #expect(checkpoint.at == "2026-11-18T11:06:40.250Z")
        let line = checkpoint.line
        #expect(line.hasPrefix(#"{"audit_checkpoint":1,"entries":27,"head":"abab"#) && !line.contains("\n"))

        let read = try AuditCheckpoint(line: Substring("Dec  5 07:00:00 host sonda-aggregator[42]: " + line))
        #expect(read == checkpoint && read.isSigned(by: key.publicKey))
        #expect(!read.isSigned(by: Curve25519.Signing.PrivateKey().publicKey))
        let raised = try AuditCheckpoint(
            line: Substring(line.replacingOccurrences(of: #""entries":27"#, with: #""entries":28"#)))
        #expect(!raised.isSigned(by: key.publicKey), "a changed count no longer verifies")
        let moved = try AuditCheckpoint(line: Substring(line.replacingOccurrences(of: "11:06:40", with: "11:06:41")))
        #expect(!moved.isSigned(by: key.publicKey), "the time is signed too")

        #expect(throws: AuditCheckpoint.Unreadable.self) { try AuditCheckpoint(line: Substring(line.prefix(60))) }
        #expect(throws: AuditCheckpoint.Unreadable.self) { try AuditCheckpoint(line: #"{"level":"info"}"#) }
    }

    @Test(arguments: StoreKind.allCases)
    func theHeadIsWhatTheWalkNotesAtItsCount(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        defer { Task { await store.close() } }
        #expect(try await store.auditHead() == AuditLog.Head(entries: 0, hash: nil))
        let f = try IngestFixture()
        try await store.appendAudit(kind: "config", detail: "file=a sha256=b agents=1", at: f.now)
        let first = try await store.auditHead()
        try await store.write(
            f.batch(results: [IngestFixture.result(totalMilliseconds: 5, at: f.now)]), rawResults: nil,
            region: "sao_paulo", now: f.now, auditDetail: "batch=one")
        try await store.appendAudit(kind: "silence", detail: "id=s1", at: f.now)
        // PostgreSQL links the queued batch entry first; another test's open transaction may delay it.
        var head = try await store.auditHead()
        #expect(
            await eventually(every: .milliseconds(50)) {
                head = (try? await store.auditHead()) ?? head
                return head.entries == 3
            })
        let walked = try await store.verifyAudit(noting: [0, 1, 3, 9])
        #expect(walked.firstBroken == nil && walked.entries == 3 && walked.queued == 0)
        #expect(walked.hashes == [0: String(repeating: "0", count: 64), 1: first.hash, 3: head.hash])
        #expect(first.entries == 1 && first.hash != head.hash)
    }

    @Test(arguments: StoreKind.allCases)
    func theCheckpointerAppendsSignedLinesAndAFailureIsAFaultUntilOneSucceeds(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        defer { Task { await store.close() } }
        let directory = NSTemporaryDirectory() + "sonda-trail-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = Curve25519.Signing.PrivateKey()
        let file = directory + "/checkpoints.jsonl"
        let checkpointer = AuditCheckpointer(
            store: store, key: key, config: AuditConfig(signingKey: "unused", destination: .file(file)))
        try await store.appendAudit(kind: "config", detail: "file=a", at: Date())
        let written = try #require(await checkpointer.checkpointOnce(reason: .start))
        #expect(written.entries == 1)
        try await store.appendAudit(kind: "config", detail: "file=b", at: Date())
        #expect(await checkpointer.checkpointOnce(reason: .shutdown)?.entries == 2)

        var review = CheckpointReview(keys: [key.publicKey])
        review.read(try String(contentsOfFile: file, encoding: .utf8), file: "checkpoints.jsonl")
        #expect(
            review.signed.map(\.checkpoint.entries) == [1, 2] && review.signed.last?.place == "checkpoints.jsonl:2")
        let verdict = review.review(try await store.verifyAudit(noting: review.signedCounts), requireSignedHead: true)
        #expect(verdict.findings.isEmpty && verdict.warnings.isEmpty, "\(verdict)")
        #expect(
            FileManager.default.fileExists(atPath: file)
                && (try? FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o640)

        try FileManager.default.removeItem(atPath: directory)
        #expect(await checkpointer.checkpointOnce(reason: .interval) == nil)
        #expect(await checkpointer.checkpointOnce(reason: .interval) == nil)
        let fault = try #require(store.faults.health().faults.first { $0.cause == "audit_checkpoint" })
        #expect(fault.occurrences == 2 && fault.message.contains("cannot open '\(file)': No such file or directory"))
        #expect(store.faults.metricsText().contains(#"sonda_fault_persisting{cause="audit_checkpoint"} 1"#))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(await checkpointer.checkpointOnce(reason: .interval) != nil)
        #expect(store.faults.health().faults.isEmpty)
    }
}

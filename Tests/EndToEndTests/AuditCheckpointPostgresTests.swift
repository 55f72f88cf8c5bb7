import Foundation
import TestSupport
import Testing

/// Signed checkpoints with two `serve` replicas on one PostgreSQL database: only the replica
/// holding the fleet's lease writes them (it links the chain), its last one at SIGTERM signs every
/// entry, and a chain truncated or recomputed with psql is caught.
@Suite struct AuditCheckpointPostgresTests {
    @Test func onlyTheLeaseHolderCheckpointsAndPsqlTamperingIsCaught() async throws {
        let trail = try await AuditTrail()
        defer { trail.remove() }
        let dir = trail.directory
        let url = try await PostgresServer.database()
        let configs = try ["a", "b"].map {
            try trail.config("\($0).yaml", database: url, checkpoints: "\($0).jsonl", every: "1s")
        }
        let (a, aPort) = try await trail.serve(configs[0], portFile: "a.port")
        defer { a.signal(SIGTERM) }
        #expect(await eventually { trail.lines("a.jsonl").count >= 1 }, "\(a.log)")
        let (b, bPort) = try await trail.serve(configs[1], portFile: "b.port")
        defer { b.signal(SIGTERM) }
        #expect(try await trail.send(batches: 3, to: aPort).status == 0)
        #expect(try await trail.send(batches: 3, to: bPort).status == 0)
        // 2 config entries and 6 batches (and any alert), linked by the lease holder and signed at its next checkpoint.
        func signed() -> Int {
            trail.lines("a.jsonl").compactMap { $0.firstMatch(of: /"entries":(\d+),/).flatMap { Int($0.1) } }.max() ?? 0
        }
        #expect(await eventually { signed() >= 8 }, "\(trail.lines("a.jsonl"))")
        #expect(trail.lines("b.jsonl").isEmpty, "the replica without the lease writes none")

        b.signal(SIGTERM)
        #expect(await b.wait() == 0, "\(b.log)")
        a.signal(SIGTERM)
        #expect(await a.wait() == 0, "\(a.log)")
        #expect(trail.lines("a.jsonl").last?.contains(#""reason":"shutdown""#) == true)
        let files = ["--checkpoints", "\(dir)/a.jsonl", "--public-key", trail.publicKey]
        let intact = try await trail.verify(["--database", url, "--require-signed-head"] + files)
        #expect(intact.status == 0, "\(intact.stderr)")
        // Entries whose transactions a test beside this one held back from linking (the snapshot
        // horizon is the cluster's) stay queued until a replica starts again: "(and N … queued …)".
        let entries = try #require(
            intact.stdout.firstMatch(of: /^audit chain intact: (\d+) entries[ \n]/).flatMap { Int($0.1) },
            "\(intact.stdout)")
        #expect(entries >= 8 && intact.stdout.hasSuffix("shutdown) signs \(entries) entries\n"), "\(intact.stdout)")

        func copy(_ sql: String) async throws -> String {
            let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let source = String(url[url.index(after: url.lastIndex(of: "/")!)...])
            _ = try await PostgresServer.psql(
                String(url[..<url.lastIndex(of: "/")!]) + "/postgres", "CREATE DATABASE \(name) TEMPLATE \(source)")
            let copied = String(url[..<url.lastIndex(of: "/")!]) + "/\(name)"
            _ = try await PostgresServer.psql(copied, sql)
            return copied
        }
        let cut = try await copy(AuditTrail.cutTail)
        let truncated = try await trail.verify(["--database", cut] + files)
        #expect(truncated.status == 2)
        #expect(
            truncated.stderr.contains("audit chain truncated: it has \(entries - 2) entries, but checkpoint"),
            "\(truncated.stderr)")

        let rebuilt = try await copy(AuditTrail.recomputePostgres)
        let recomputed = try await trail.verify("--database", rebuilt).stdout
        #expect(recomputed.hasPrefix("audit chain intact: \(entries) entries"), "\(recomputed)")
        let rewritten = try await trail.verify(["--database", rebuilt] + files)
        #expect(rewritten.status == 3)
        #expect(rewritten.stderr.contains("audit chain rewritten: its first "), "\(rewritten.stderr)")
    }
}

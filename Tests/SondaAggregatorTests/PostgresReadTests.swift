import Foundation
import PostgresNIO
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// How the PostgreSQL store reads: whole answers collected on the event loop (`rows`), so a
/// server that goes away mid-read fails the read instead of trapping, and long walks in pages.
@Suite struct PostgresReadTests {
    /// PostgreSQL restarting during a large read must fail that read, not the replica: postgres-nio's
    /// row stream traps when the server closes the connection while the stream waits for its
    /// consumer (a fresh-clone run lost a replica so), and `rows` is what keeps it from waiting.
    @Test func aReadTheServerEndsMidStreamFailsWithoutTrapping() async throws {
        let url = try await PostgresServer.database()
        let store = try await PostgresStore.forTests(try PostgresURL(url))
        let marker = "midstream_\(UUID().uuidString.prefix(8))"
        // 4 MB of rows, more than the socket buffers hold, then a wait the terminate cuts short.
        let sql = """
            SELECT repeat('x', 200) || '\(marker)' FROM generate_series(1, 20000)
            UNION ALL SELECT pg_sleep(600)::text
            """
        let read = Task {
            try await store.withConnection { [logger = store.logger] connection in
                try await connection.rows(PostgresQuery(unsafeSQL: sql), logger: logger).count
            }
        }
        // Ends the backend once it has sent rows: either all of them (asleep) or as many as the
        // client took (blocked writing to it).
        let terminated = await eventually(every: .milliseconds(100)) {
            let answer = try? await PostgresServer.psql(
                url,
                """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE query LIKE '%\(marker)%' AND pid <> pg_backend_pid()
                  AND wait_event IN ('PgSleep', 'ClientWrite')
                """)
            return answer == "t"
        }
        #expect(terminated)
        await #expect(throws: (any Error).self) { try await read.value }
        // The store goes on with a new connection, once the pool has one (on a busy machine that
        // can take longer than a use waits for a connection, and that use answers "unreachable").
        #expect(await eventually { (try? await store.agents()) != nil })
        await store.close()
    }

    /// `audit verify` walks the chain in pages; a page boundary must change nothing it finds,
    /// whether the chain is intact or broken after a boundary.
    @Test func theAuditChainVerifiesTheSameInPages() async throws {
        let url = try await PostgresServer.database()
        let store = try await PostgresStore.forTests(try PostgresURL(url))
        defer { Task { await store.close() } }
        let f = try IngestFixture()
        for n in 0..<7 {
            let result = IngestFixture.result(totalMilliseconds: 10, at: f.now.addingTimeInterval(Double(n)))
            try await store.write(
                f.batch(results: [result]), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: "batch=\(n)")
        }
        // Queued entries are linked once no older transaction runs anywhere on the server, which
        // the tests beside this one can hold back for a while.
        #expect(await eventually { (try? await store.auditHead().entries) == 7 })
        let noting: Set<Int> = [0, 2, 3, 7]
        let whole = try await store.verifyAudit(noting: noting)
        #expect(whole.entries == 7 && whole.firstBroken == nil && whole.hashes.count == 4)
        for size in [1, 2, 3, 7] {
            #expect(try await store.verifyAudit(noting: noting, pageSize: size) == whole, "pages of \(size)")
        }
        _ = try await PostgresServer.psql(
            url, "UPDATE audit SET detail = 'batch=tampered' WHERE seq = (SELECT min(seq) + 4 FROM audit)")
        let broken = try await store.verifyAudit(noting: noting)
        #expect(broken.firstBroken != nil && broken.entries == 5)
        for size in [1, 2, 3, 7] {
            #expect(try await store.verifyAudit(noting: noting, pageSize: size) == broken, "pages of \(size)")
        }
    }
}

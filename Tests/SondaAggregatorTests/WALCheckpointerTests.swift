import Foundation
import GRDB
import SondaAggregator
import SondaCore
import TestSupport
import Testing

/// The server's checkpointer keeps the write-ahead log small while batches keep coming, in place
/// of the writer's own checkpoints, and loses nothing.
@Suite struct WALCheckpointerTests {
    @Test func theLogIsEmptiedWhileIngestGoesOn() async throws {
        let f = try IngestFixture()
        let wal = f.config.database + "-wal"
        func walBytes() -> Int { ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? Int) ?? 0 }
        let checkpointer = WALCheckpointer(store: f.store, interval: .milliseconds(20), truncateAbovePages: 200)
        let service = Task { try await checkpointer.run() }
        defer { service.cancel() }
        // It turns the writer's own checkpoints off before the batches come.
        let writerCheckpoints = await eventually(every: .milliseconds(10)) {
            let pages = try? await f.store.pool.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")
            }
            return pages == 0
        }
        try #require(writerCheckpoints, "the checkpointer did not turn the writer's checkpoints off")
        var largest = 0
        for batch in 0..<40 {
            let results = (0..<200).map { i in
                IngestFixture.result(
                    check: "c\(i % 7)", totalMilliseconds: Double(10 + i % 90),
                    at: f.now.addingTimeInterval(-Double(batch * 200 + i)))
            }
            try await f.store.write(f.batch(results: results), region: "sao_paulo")
            largest = max(largest, walBytes())
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = await eventually(every: .milliseconds(20)) { walBytes() <= 200 * 4096 }
        #expect(walBytes() <= 200 * 4096, "the log was emptied: \(walBytes()) bytes (largest seen \(largest))")
        #expect(largest > 200 * 4096, "the log did grow past the threshold in between, so truncation was exercised")
        let stored = try await f.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") }
        #expect(stored == 8_000)
        let check = try await f.store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")
    }
}

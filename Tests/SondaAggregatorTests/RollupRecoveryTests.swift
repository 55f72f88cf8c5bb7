import Foundation
import GRDB
import SondaCore
import Testing

@testable import SondaAggregator

/// Rollups are merged after the batch's commit when other batches wait for the writer; a crash
/// before that merge must be repaired from the raw rows at the next start, once.
@Suite struct RollupRecoveryTests {
    static func counts(_ store: SQLiteStore) async throws -> (minute: Int, hour: Int, day: Int, totalHistogram: Int) {
        try await store.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT IFNULL(SUM(count), 0) FROM outcome_minute")!,
                try Int.fetchOne(db, sql: "SELECT IFNULL(SUM(count), 0) FROM outcome_hour")!,
                try Int.fetchOne(db, sql: "SELECT IFNULL(SUM(count), 0) FROM outcome_day")!,
                try Int.fetchOne(db, sql: "SELECT IFNULL(SUM(count), 0) FROM latency_minute WHERE phase = 'total'")!
            )
        }
    }

    static func results(_ n: Int, failing: Int, now: Date) -> [ProbeResult] {
        (0..<n).map { i in
            IngestFixture.result(
                check: "auth-health", totalMilliseconds: 20 + Double(i % 50),
                error: i < failing ? ProbeError(.timeout, "timed out") : nil, at: now.addingTimeInterval(-Double(i)))
        }
    }

    @Test func anIdleWriterMergesItsRollupBeforeAnswering() async throws {
        let f = try IngestFixture()
        try await f.store.write(f.batch(results: Self.results(200, failing: 10, now: f.now)), region: "sao_paulo")
        let c = try await Self.counts(f.store)
        #expect(c.minute == 200 && c.hour == 200 && c.day == 200 && c.totalHistogram == 190)
    }

    @Test func aWriteRefusedBeforeItsTransactionStopsCountingAsWaiting() async throws {
        let f = try IngestFixture()
        try f.store.pool.close()
        await #expect(throws: (any Error).self) {
            try await f.store.write(f.batch(results: Self.results(3, failing: 0, now: f.now)), region: "sao_paulo")
        }
        #expect(f.store.pending.waitingWriters.load(ordering: .relaxed) == 0)
    }

    @Test func rollupsStillInMemoryAtACrashAreRebuiltOnceFromTheRawRows() async throws {
        let f = try IngestFixture()
        // Another batch is queued for the writer, so this one leaves its rollup in memory.
        f.store.pending.waitingWriters.add(1, ordering: .relaxed)
        try await f.store.write(f.batch(results: Self.results(300, failing: 30, now: f.now)), region: "sao_paulo")
        #expect(try await Self.counts(f.store).minute == 0, "the rollup waits for the queued batch")

        // The process dies here: no flush. The next start folds the rows past the cursor.
        let restarted = try SQLiteStore(path: f.config.database)
        let c = try await Self.counts(restarted)
        #expect(c.minute == 300 && c.hour == 300 && c.day == 300 && c.totalHistogram == 270)
        let again = try SQLiteStore(path: f.config.database)
        #expect(try await Self.counts(again).minute == 300, "a second start adds nothing")

        // A batch written later merges on top, and a duplicate batch adds nothing.
        let batch = f.batch(results: Self.results(50, failing: 0, now: f.now.addingTimeInterval(-600)))
        try await again.write(batch, region: "sao_paulo")
        try await again.write(batch, region: "sao_paulo")
        #expect(try await Self.counts(again).minute == 350)
    }

    @Test func pruningFlushesFirstAndKeepsTheNewestRow() async throws {
        let f = try IngestFixture()
        f.store.pending.waitingWriters.add(1, ordering: .relaxed)
        try await f.store.write(f.batch(results: Self.results(20, failing: 0, now: f.now)), region: "sao_paulo")
        let removed = try await f.store.prune(rawBefore: f.now.addingTimeInterval(3600), rollupsBefore: .distantPast)
        #expect(removed == 19, "every row but the newest by rowid")
        #expect(try await Self.counts(f.store).hour == 20, "the pending rollup was merged before the rows went")
    }
}

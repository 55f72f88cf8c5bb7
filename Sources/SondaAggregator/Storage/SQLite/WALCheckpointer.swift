import Foundation
import GRDB
import ServiceLifecycle
import SondaCore

/// Copies the write-ahead log back into the database from a connection of its own, so the writer
/// never does it. SQLite's default makes the committing writer checkpoint every 1 000 pages
/// (4 MB), writing and fsyncing the main file while every batch behind it waits: at fleet ingest
/// rates that was a third of the ingest time (bench/ingest.sh: 22–27k → 33–35k results/s without
/// it). PASSIVE checkpoints run beside the writer and readers, but the log only starts over once a
/// checkpoint has caught up with no writer in the way, which under steady ingest never happens:
/// once it holds `truncateAbovePages` frames, a TRUNCATE checkpoint takes its turn between two
/// batches on the writer (the copying is mostly done by then) and empties it, so its size stays
/// bounded. A round that fails (a checkpoint refused by a reader that holds the log, an I/O
/// error) is a fault of cause `wal_checkpoint` in the store's `FaultLog` until a round succeeds:
/// with the writer's checkpoints off, nothing else keeps the log from growing meanwhile.
public struct WALCheckpointer: Service {
    let store: SQLiteStore
    let interval: Duration
    let truncateAbovePages: Int

    public init(store: SQLiteStore, interval: Duration = .milliseconds(500), truncateAbovePages: Int = 16_000) {
        self.store = store
        self.interval = interval
        self.truncateAbovePages = truncateAbovePages
    }

    public func run() async throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let connection = try DatabaseQueue(path: store.pool.path, configuration: configuration)
        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        defer { try? connection.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) } }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            await checkpoint(from: connection)
        }
    }

    /// One round: a passive checkpoint, then a truncating one if the log is still long.
    func checkpoint(from connection: DatabaseQueue) async {
        await store.faults.attempt(.walCheckpoint, describe: StoreOpening.describe) {
            let frames = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive).walFrameCount
            }
            if frames > truncateAbovePages {
                // In the writer's own queue: it gets its turn between two batches instead of
                // polling for a gap that steady ingest never leaves.
                _ = try await store.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            }
        }
    }
}

import Foundation
import GRDB
import ServiceLifecycle
import SondaCore

/// The aggregator's SQLite file: a GRDB pool in WAL mode, migrated on open.
///
/// Durability: `synchronous = FULL`. In WAL mode NORMAL is also corruption-free, but a power loss
/// may drop the last commits, and those are batches the agent already deleted from its spool
/// after our 200. FULL fsyncs the WAL at every commit; with one transaction per batch that is one
/// fsync per batch, which batching makes cheap (see bench/ingest.sh).
public final class SQLiteStore: AggregatorStore {
    public let pool: DatabasePool
    let pending: PendingRollups
    public let faults: FaultLog
    /// The file descriptor holding `serve`'s exclusive lock on the file, or -1.
    private let lock: Int32

    /// Opens (creating and migrating) the file. `exclusive`: `serve` takes an exclusive lock on
    /// the file first, so a second `serve` on the same file stops with a clear message instead of
    /// folding the same rollups twice. Results that no longer decode are left out of the rollups
    /// and recorded in `faults`.
    public init(path: String, exclusive: Bool = false, faults: FaultLog = FaultLog()) throws {
        lock = exclusive ? try Self.lockExclusively(path) : -1
        self.faults = faults
        pending = PendingRollups(faults: faults)
        faults.register(.walCheckpoint, .undecodableResult, .undecodableRollup)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try SchemaMigrations.migrator.migrate(pool)
        let recovered = try pool.write { db in try PendingRollups.recover(in: db) }
        recovered.undecodable.record(in: faults)
        recovered.histograms.record(in: faults)
    }

    /// Walks the audit chain of the file at `path` through a read-only connection: no migration,
    /// no rollup recovery, nothing written, so it is safe beside a running `serve`.
    static func verifyAudit(readOnly path: String, noting: Set<Int>) throws -> AuditLog.Verification {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: path, configuration: configuration).read { db in
            try SQLiteAudit.verify(in: db, noting: noting)
        }
    }

    public func flushRollups() async throws {
        try await pool.write { [pending] db in try pending.flush(in: db) }
    }

    @discardableResult
    public func prune(rawBefore: Date, rollupsBefore: Date) async throws -> Int {
        let raw = Int64(rawBefore.timeIntervalSince1970 * 1000)
        let minute = Int64(rawBefore.timeIntervalSince1970 / 60)
        let hour = Int64(rollupsBefore.timeIntervalSince1970 / 3600)
        return try await pool.write { [pending] db in
            try pending.flush(in: db)
            // The newest row stays, so rowids never go back below the rollup cursor.
            try db.execute(
                sql: "DELETE FROM results WHERE started_at_ms < ? AND rowid < (SELECT MAX(rowid) FROM results)",
                arguments: [raw])
            let removed = db.changesCount
            try db.execute(sql: "DELETE FROM latency_minute WHERE minute < ?", arguments: [minute])
            try db.execute(sql: "DELETE FROM outcome_minute WHERE minute < ?", arguments: [minute])
            try db.execute(sql: "DELETE FROM latency_hour WHERE hour < ?", arguments: [hour])
            try db.execute(sql: "DELETE FROM outcome_hour WHERE hour < ?", arguments: [hour])
            try db.execute(sql: "DELETE FROM latency_day WHERE day < ?", arguments: [hour / 24])
            try db.execute(sql: "DELETE FROM outcome_day WHERE day < ?", arguments: [hour / 24])
            return removed
        }
    }

    @discardableResult
    public func pruneExpired(now: Date) async throws -> ExpiredRows {
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        return try await pool.write { db in
            var removed = ExpiredRows()
            try db.execute(sql: "DELETE FROM silences WHERE ends_at_ms <= ?", arguments: [ms])
            removed.silences = db.changesCount
            try db.execute(sql: "DELETE FROM batch_ids WHERE until_ms < ?", arguments: [ms])
            removed.batchIDs = db.changesCount
            return removed
        }
    }

    public func appendAudit(kind: String, detail: String, at date: Date) async throws {
        try await pool.write { db in try SQLiteAudit.append(kind: kind, detail: detail, at: date, in: db) }
    }

    public func verifyAudit(noting: Set<Int>) async throws -> AuditLog.Verification {
        try await pool.read { db in try SQLiteAudit.verify(in: db, noting: noting) }
    }

    public func auditHead() async throws -> AuditLog.Head {
        try await pool.read { db in try SQLiteAudit.head(in: db) }
    }

    public func ping() async throws {
        try await pool.read { db in _ = try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public var maintenance: [any Service] { [WALCheckpointer(store: self)] }

    /// Copies the write-ahead log into the file and empties it, then closes every connection, so
    /// the file stands on its own once `serve` has stopped: a copy, a backup or a read-only
    /// `audit verify` needs no `-wal` beside it. Left to the pool's deinit, this raced the
    /// process's exit, and which connection closed last decided whether the log was emptied (a
    /// reader cannot checkpoint). A checkpoint that fails is a `wal_checkpoint` fault, logged. It
    /// runs through GRDB's blocking API, which a cancelled task (a `serve` that failed to start)
    /// does not cut short.
    public func close() async {
        await faults.attempt(.walCheckpoint, describe: StoreOpening.describe) {
            _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        }
        // A pool still in use refuses to close; its connections then close at deinit.
        try? pool.close()
    }

    deinit {
        if lock >= 0 { Foundation.close(lock) }
    }

    /// An advisory lock (flock) on the database file itself, held for the life of the process;
    /// SQLite's own locks are of another kind (fcntl) and unaffected.
    private static func lockExclusively(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SQLiteLockError(message: "cannot open the database '\(path)': \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            Foundation.close(fd)
            throw SQLiteLockError(
                message: "the database '\(path)' is in use by another sonda-aggregator serve; stop that one first "
                    + "(several replicas need PostgreSQL: database: postgres://…)")
        }
        return fd
    }
}

/// Another `serve` holds the SQLite file.
public struct SQLiteLockError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

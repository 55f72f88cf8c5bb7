import Foundation
import GRDB
import SondaCore

extension SQLiteStore {
    public func alertStart(since: Date) async throws -> AlertStart {
        try await pool.read { db in
            let saved =
                try SQLiteAlerts.cursor(in: db) ?? Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM results") ?? 0
            let recent = try SQLiteAlerts.events(
                db, sql: SQLiteAlerts.recentEvents, arguments: [SQLiteAlerts.milliseconds(since), saved])
            return AlertStart(active: try SQLiteAlerts.active(in: db), cursor: saved, recent: recent.map(\.1))
        }
    }

    public func resultEvents(after cursor: Int64, limit: Int) async throws -> (events: [ResultEvent], last: Int64?) {
        let rows = try await pool.read { db in
            try SQLiteAlerts.events(db, sql: SQLiteAlerts.eventsAfter, arguments: [cursor, limit])
        }
        return (rows.map(\.1), rows.last?.0)
    }

    public func burnCounts(now: Date) async throws -> [BurnCounts] {
        try await pool.read { db in try SQLiteAlerts.burns(now: now, in: db) }
    }

    /// One `serve` writes a SQLite file, so it always leads.
    public func acquireLease(holder: String, ttl: Duration) async throws -> Lease? {
        Lease(holder: holder, epoch: 1)
    }

    public func saveAlerts(
        _ evaluation: AlertEngine.Evaluation, cursor: Int64?, at: Date, lease: Lease, notifications: [Notification]
    ) async throws {
        try await pool.write { db in
            try SQLiteAlerts.save(evaluation, cursor: cursor, at: at, in: db)
            try Self.queue(notifications, in: db)
        }
    }

    public func activeAlerts() async throws -> [TrackedAlert] {
        try await pool.read { db in try SQLiteAlerts.active(in: db) }
    }

    public func alerts(_ selection: AlertSelection, after position: AlertPosition?, limit: Int) async throws
        -> [TrackedAlert]
    {
        try await pool.read { db in try SQLiteAlerts.list(selection, after: position, limit: limit, in: db) }
    }

    public func silences(notEndedAt now: Date, after position: SilencePosition?, limit: Int) async throws
        -> [Silence]
    {
        try await pool.read { db in try SQLiteAlerts.silences(notEndedAt: now, after: position, limit: limit, in: db) }
    }

    public func insert(_ silence: Silence) async throws {
        try await pool.write { db in try SQLiteAlerts.insert(silence, in: db) }
    }

    public func expireSilence(id: String, at now: Date) async throws -> Silence? {
        try await pool.write { db in try SQLiteAlerts.expireSilence(id: id, at: now, in: db) }
    }
}

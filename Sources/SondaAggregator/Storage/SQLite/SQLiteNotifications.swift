import Foundation
import GRDB

/// The notifications queued for delivery, on SQLite (one process writes the file).
extension SQLiteStore {
    static func queue(_ notifications: [Notification], in db: Database) throws {
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO notifications (key, receiver, body, alerts, created_at_ms, due_at_ms)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING
                """)
        for n in notifications {
            let at = SQLiteAlerts.milliseconds(n.createdAt)
            try insert.execute(arguments: [n.key, n.receiver, n.body, n.alerts, at, at])
        }
    }

    public func claimNotification(receiver: String, now: Date, until: Date) async throws -> Notification.Claimed? {
        let (nowMs, untilMs) = (SQLiteAlerts.milliseconds(now), SQLiteAlerts.milliseconds(until))
        return try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, key, body, alerts, created_at_ms, attempts, due_at_ms, claimed_until_ms
                        FROM notifications WHERE receiver = ? AND state = 'pending' ORDER BY id LIMIT 1
                        """, arguments: [receiver]),
                (row["due_at_ms"] as Int64) <= nowMs, (row["claimed_until_ms"] as Int64) <= nowMs
            else { return nil }
            let id: Int64 = row["id"]
            try db.execute(
                sql: "UPDATE notifications SET claimed_until_ms = ?, attempts = attempts + 1 WHERE id = ?",
                arguments: [untilMs, id])
            return Notification.Claimed(
                id: id,
                notification: Notification(
                    key: row["key"], receiver: receiver, body: row["body"], alerts: row["alerts"],
                    createdAt: SQLiteAlerts.date(row["created_at_ms"])!),
                attempts: row["attempts"] as Int + 1)
        }
    }

    public func finishNotification(id: Int64, state: Notification.State, retryAt: Date?, error: String?, at: Date)
        async throws
    {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE notifications SET state = ?, due_at_ms = COALESCE(?, due_at_ms), claimed_until_ms = 0,
                        last_error = COALESCE(?, last_error), finished_at_ms = ?
                    WHERE id = ?
                    """,
                arguments: [
                    state.rawValue, retryAt.map(SQLiteAlerts.milliseconds), error,
                    state == .pending ? nil : SQLiteAlerts.milliseconds(at), id,
                ])
            // Finished notifications are kept as long as resolved alerts.
            try db.execute(
                sql: "DELETE FROM notifications WHERE state != 'pending' AND finished_at_ms < ?",
                arguments: [SQLiteAlerts.milliseconds(at.addingTimeInterval(-AlertHistory.kept))])
        }
    }

    public func pendingNotifications() async throws -> [String: Int] {
        try await pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT receiver, SUM(alerts) FROM notifications WHERE state = 'pending' GROUP BY receiver")
            {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }
}

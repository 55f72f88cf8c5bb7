import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The notifications queued for delivery, on PostgreSQL, where every replica may run senders: a
/// claim is a row update under the row's lock, so two replicas never send the same notification
/// at once, and only a receiver's oldest pending notification is ever claimed, so it gets them
/// in order.
extension PostgresStore {
    static func queue(_ notifications: [Notification], on connection: PostgresConnection, logger: Logger) async throws {
        guard !notifications.isEmpty else { return }
        let at = notifications.map { milliseconds($0.createdAt) }
        try await connection.query(
            """
            INSERT INTO notifications (key, receiver, body, alerts, created_at_ms, due_at_ms)
            SELECT key, receiver, body, alerts, at, at
            FROM UNNEST(\(notifications.map(\.key))::text[], \(notifications.map(\.receiver))::text[],
                        \(notifications.map { ByteBuffer(bytes: $0.body) })::bytea[],
                        \(notifications.map { Int64($0.alerts) })::bigint[], \(at)::bigint[])
                 AS n(key, receiver, body, alerts, at)
            ON CONFLICT (key) DO NOTHING
            """, logger: logger)
    }

    public func claimNotification(receiver: String, now: Date, until: Date) async throws -> Notification.Claimed? {
        let (nowMs, untilMs) = (Self.milliseconds(now), Self.milliseconds(until))
        return try await withConnection { [logger] connection in
            let rows = try await connection.rows(
                """
                UPDATE notifications SET claimed_until_ms = \(untilMs), attempts = attempts + 1
                WHERE id = (SELECT id FROM notifications WHERE receiver = \(receiver) AND state = 'pending'
                            ORDER BY id LIMIT 1 FOR UPDATE)
                AND due_at_ms <= \(nowMs) AND claimed_until_ms <= \(nowMs)
                RETURNING id, key, body, alerts, created_at_ms, attempts
                """, logger: logger)
            for (id, key, body, alerts, createdAt, attempts) in try rows.decode(
                (Int64, String, ByteBuffer, Int, Int64, Int).self)
            {
                return Notification.Claimed(
                    id: id,
                    notification: Notification(
                        key: key, receiver: receiver, body: Data(buffer: body), alerts: alerts,
                        createdAt: Self.date(createdAt)),
                    attempts: attempts)
            }
            return nil
        }
    }

    public func finishNotification(id: Int64, state: Notification.State, retryAt: Date?, error: String?, at: Date)
        async throws
    {
        let finished: Int64? = state == .pending ? nil : Self.milliseconds(at)
        let kept = Self.milliseconds(at.addingTimeInterval(-AlertHistory.kept))
        try await withConnection { [logger] connection in
            try await connection.query(
                """
                UPDATE notifications SET state = \(state.rawValue),
                    due_at_ms = COALESCE(\(retryAt.map(Self.milliseconds)), due_at_ms), claimed_until_ms = 0,
                    last_error = COALESCE(\(error), last_error), finished_at_ms = \(finished)
                WHERE id = \(id)
                """, logger: logger)
            try await connection.query(
                "DELETE FROM notifications WHERE state != 'pending' AND finished_at_ms < \(kept)", logger: logger)
        }
    }

    public func pendingNotifications() async throws -> [String: Int] {
        try await withConnection { [logger] connection in
            var counts: [String: Int] = [:]
            let rows = try await connection.rows(
                "SELECT receiver, SUM(alerts)::bigint FROM notifications WHERE state = 'pending' GROUP BY receiver",
                logger: logger)
            for (receiver, count) in try rows.decode((String, Int).self) { counts[receiver] = count }
            return counts
        }
    }
}

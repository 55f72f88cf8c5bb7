import Foundation
import GRDB
import SondaCore

/// The alert tables: episodes (pending, firing, resolved history), silences and the evaluator's
/// cursor into the results table. Every function runs inside the caller's transaction.
public enum AlertStore {
    /// Resolved episodes are kept this long.
    public static let history: TimeInterval = 14 * 86_400

    /// Upserts what changed, forgets pending alerts that lapsed, moves the cursor, and appends each
    /// firing and resolution to the audit chain, in the caller's transaction.
    static func save(_ evaluation: AlertEngine.Evaluation, cursor: Int64?, at now: Date, in db: Database) throws {
        for alert in evaluation.updated { try upsert(alert, in: db) }
        for alert in evaluation.dropped {
            try db.execute(
                sql: "DELETE FROM alerts WHERE fingerprint = ? AND active_since_ms = ?",
                arguments: [alert.fingerprint, milliseconds(alert.activeSince)])
        }
        for change in evaluation.changes where change.transition != .dropped {
            let a = change.alert
            try AuditLog.append(
                kind: "alert",
                detail:
                    "\(change.transition.rawValue) fingerprint=\(a.fingerprint) alertname=\(a.labels["alertname"] ?? "") "
                    + "severity=\(a.severity.rawValue) \(a.summary)",
                at: now, in: db)
        }
        if let cursor {
            try db.execute(
                sql:
                    "INSERT INTO alert_cursor (name, value) VALUES ('results', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                arguments: [cursor])
        }
        try db.execute(
            sql: "DELETE FROM alerts WHERE state = 'resolved' AND ends_at_ms < ?",
            arguments: [milliseconds(now.addingTimeInterval(-history))])
    }

    static func upsert(_ a: TrackedAlert, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO alerts (fingerprint, active_since_ms, labels, severity, state, silenced, summary, description,
                                    starts_at_ms, ends_at_ms, last_sent_ms, false_since_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(fingerprint, active_since_ms) DO UPDATE SET labels = excluded.labels,
                    severity = excluded.severity, state = excluded.state, silenced = excluded.silenced,
                    summary = excluded.summary, description = excluded.description,
                    starts_at_ms = excluded.starts_at_ms, ends_at_ms = excluded.ends_at_ms,
                    last_sent_ms = excluded.last_sent_ms, false_since_ms = excluded.false_since_ms
                """,
            arguments: [
                a.fingerprint, milliseconds(a.activeSince), try labelsJSON(a.labels), a.severity.rawValue,
                a.state.rawValue, a.silenced, a.summary, a.description, a.startsAt.map(milliseconds),
                a.endsAt.map(milliseconds), a.lastSent.map(milliseconds), a.falseSince.map(milliseconds),
            ])
    }

    /// The pending and firing alerts, to restore the engine after a restart.
    public static func active(in db: Database) throws -> [TrackedAlert] {
        try Row.fetchAll(db, sql: "SELECT * FROM alerts WHERE state IN ('pending', 'firing')").map(alert)
    }

    /// Firing alerts (and pending ones when `includePending`), then resolved ones newest first,
    /// ended at or after `since`.
    public static func list(includePending: Bool = false, since: Date, limit: Int = 1000, in db: Database) throws
        -> [TrackedAlert]
    {
        let states = includePending ? "'pending', 'firing'" : "'firing'"
        let live = try Row.fetchAll(
            db, sql: "SELECT * FROM alerts WHERE state IN (\(states)) ORDER BY starts_at_ms DESC, active_since_ms DESC")
        let resolved = try Row.fetchAll(
            db,
            sql: "SELECT * FROM alerts WHERE state = 'resolved' AND ends_at_ms >= ? ORDER BY ends_at_ms DESC LIMIT ?",
            arguments: [milliseconds(since), limit])
        return try (live + resolved).map(alert)
    }

    static func alert(_ row: Row) throws -> TrackedAlert {
        let labels = try JSONDecoder().decode([String: String].self, from: Data((row["labels"] as String).utf8))
        return TrackedAlert(
            fingerprint: row["fingerprint"], labels: labels, summary: row["summary"], description: row["description"],
            state: TrackedAlert.State(rawValue: row["state"]) ?? .resolved, activeSince: date(row["active_since_ms"])!,
            startsAt: date(row["starts_at_ms"]), endsAt: date(row["ends_at_ms"]), lastSent: date(row["last_sent_ms"]),
            falseSince: date(row["false_since_ms"]), silenced: row["silenced"])
    }

    // MARK: silences

    public static func insert(_ s: Silence, in db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO silences (id, matchers, starts_at_ms, ends_at_ms, comment, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                s.id, try labelsJSON(s.matchers), milliseconds(s.startsAt), milliseconds(s.endsAt), s.comment,
                milliseconds(s.createdAt),
            ])
        try AuditLog.append(
            kind: "silence",
            detail:
                "id=\(s.id) matchers=\(try labelsJSON(s.matchers)) until=\(Timestamp.format(s.endsAt)) \(s.comment)",
            at: s.createdAt, in: db)
    }

    /// Silences not yet over at `now` (active or scheduled), soonest ending first.
    public static func silences(notEndedAt now: Date, in db: Database) throws -> [Silence] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM silences WHERE ends_at_ms > ? ORDER BY ends_at_ms", arguments: [milliseconds(now)]
        ).map { row in
            Silence(
                id: row["id"],
                matchers: try JSONDecoder().decode([String: String].self, from: Data((row["matchers"] as String).utf8)),
                startsAt: date(row["starts_at_ms"])!, endsAt: date(row["ends_at_ms"])!, comment: row["comment"],
                createdAt: date(row["created_at_ms"]))
        }
    }

    // MARK: cursor

    public static func cursor(in db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT value FROM alert_cursor WHERE name = 'results'")
    }

    static func labelsJSON(_ labels: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(labels), as: UTF8.self)
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(_ milliseconds: Int64?) -> Date? {
        milliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }
}

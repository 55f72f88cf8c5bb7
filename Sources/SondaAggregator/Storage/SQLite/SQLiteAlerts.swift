import Foundation
import GRDB
import SondaCore

/// The alert tables on SQLite: episodes (pending, firing, resolved history), silences and the
/// evaluator's cursor into the results table (the results rowid), and the queries the evaluator
/// reads results, heartbeats and burn counts with. Every function runs inside the caller's
/// transaction.
enum SQLiteAlerts {
    static func save(_ evaluation: AlertEngine.Evaluation, cursor: Int64?, at now: Date, in db: Database) throws {
        for alert in evaluation.updated { try upsert(alert, in: db) }
        for alert in evaluation.dropped {
            try db.execute(
                sql: "DELETE FROM alerts WHERE fingerprint = ? AND active_since_ms = ?",
                arguments: [alert.fingerprint, milliseconds(alert.activeSince)])
        }
        for change in evaluation.changes where change.transition != .dropped {
            try SQLiteAudit.append(kind: "alert", detail: AlertRecord.auditDetail(change), at: now, in: db)
        }
        if let cursor {
            try db.execute(
                sql:
                    "INSERT INTO alert_cursor (name, value) VALUES ('results', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                arguments: [cursor])
        }
        try db.execute(
            sql: "DELETE FROM alerts WHERE state = 'resolved' AND ends_at_ms < ?",
            arguments: [milliseconds(now.addingTimeInterval(-AlertHistory.kept))])
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
                a.fingerprint, milliseconds(a.activeSince), try AlertRecord.labelsJSON(a.labels), a.severity.rawValue,
                a.state.rawValue, a.silenced, a.summary, a.description, a.startsAt.map(milliseconds),
                a.endsAt.map(milliseconds), a.lastSent.map(milliseconds), a.falseSince.map(milliseconds),
            ])
    }

    static func active(in db: Database) throws -> [TrackedAlert] {
        try Row.fetchAll(db, sql: "SELECT * FROM alerts WHERE state IN ('pending', 'firing')").map(alert)
    }

    /// One page of `selection`, each group read by keyset from where the page starts in it.
    static func list(_ selection: AlertSelection, after position: AlertPosition?, limit: Int, in db: Database)
        throws -> [TrackedAlert]
    {
        var alerts: [TrackedAlert] = []
        for (group, after) in selection.groups(after: position) where alerts.count < limit {
            var arguments: StatementArguments
            switch group {
            case .live:
                let states = selection.live.map(\.rawValue).sorted()
                arguments = [String(decoding: try JSONEncoder().encode(states), as: UTF8.self)]
            case .resolved:
                arguments = [milliseconds(selection.resolvedSince ?? .distantPast)]
            }
            // A position before every alert of the group when none is given (no start or end is Int64.max).
            arguments +=
                after.map { [$0.key, $0.activeSinceMilliseconds, $0.fingerprint] } ?? [Int64.max, Int64.max, ""]
            arguments += [limit - alerts.count]
            alerts += try Row.fetchAll(db, sql: pageQueries[group]!, arguments: arguments).map(alert)
        }
        return alerts
    }

    /// Per group, a page after a position: (key, active since, fingerprint) descending, where the
    /// key is the start for live alerts (pending ones, without, last) and the end for resolved ones.
    private static let pageQueries: [AlertPosition.Group: String] = [
        .live: """
        SELECT * FROM alerts WHERE state IN (SELECT value FROM json_each(?))
        AND (COALESCE(starts_at_ms, -1), active_since_ms, fingerprint) < (?, ?, ?)
        ORDER BY COALESCE(starts_at_ms, -1) DESC, active_since_ms DESC, fingerprint DESC LIMIT ?
        """,
        .resolved: """
        SELECT * FROM alerts WHERE state = 'resolved' AND ends_at_ms >= ?
        AND (ends_at_ms, active_since_ms, fingerprint) < (?, ?, ?)
        ORDER BY ends_at_ms DESC, active_since_ms DESC, fingerprint DESC LIMIT ?
        """,
    ]

    static func alert(_ row: Row) throws -> TrackedAlert {
        let labels = try AlertRecord.labels(fromJSON: row["labels"])
        return TrackedAlert(
            fingerprint: row["fingerprint"], labels: labels, summary: row["summary"], description: row["description"],
            state: TrackedAlert.State(rawValue: row["state"]) ?? .resolved, activeSince: date(row["active_since_ms"])!,
            startsAt: date(row["starts_at_ms"]), endsAt: date(row["ends_at_ms"]), lastSent: date(row["last_sent_ms"]),
            falseSince: date(row["false_since_ms"]), silenced: row["silenced"])
    }

    // MARK: silences

    static func insert(_ s: Silence, in db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO silences (id, matchers, starts_at_ms, ends_at_ms, comment, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                s.id, try AlertRecord.labelsJSON(s.matchers), milliseconds(s.startsAt), milliseconds(s.endsAt),
                s.comment,
                milliseconds(s.createdAt),
            ])
        try SQLiteAudit.append(kind: "silence", detail: try AlertRecord.auditDetail(s), at: s.createdAt, in: db)
    }

    static func silences(notEndedAt now: Date, after position: SilencePosition?, limit: Int, in db: Database) throws
        -> [Silence]
    {
        // A position before every silence when none is given: one statement for every page.
        let (endsAt, id) = position.map { ($0.endsAtMilliseconds, $0.id) } ?? (Int64.min, "")
        return try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM silences WHERE ends_at_ms > ? AND (ends_at_ms, id) > (?, ?)
                ORDER BY ends_at_ms, id LIMIT ?
                """, arguments: [milliseconds(now), endsAt, id, limit]
        ).map(silence)
    }

    static func expireSilence(id: String, at now: Date, in db: Database) throws -> Silence? {
        guard
            var s = try Row.fetchOne(
                db, sql: "SELECT * FROM silences WHERE id = ? AND ends_at_ms > ?", arguments: [id, milliseconds(now)]
            ).map(silence)
        else { return nil }
        s.expire(at: now)
        try db.execute(
            sql: "UPDATE silences SET starts_at_ms = ?, ends_at_ms = ? WHERE id = ?",
            arguments: [milliseconds(s.startsAt), milliseconds(s.endsAt), id])
        try SQLiteAudit.append(kind: "silence", detail: try AlertRecord.expiryDetail(s), at: now, in: db)
        return s
    }

    private static func silence(_ row: Row) throws -> Silence {
        Silence(
            id: row["id"],
            matchers: try AlertRecord.labels(fromJSON: row["matchers"]),
            startsAt: date(row["starts_at_ms"])!, endsAt: date(row["ends_at_ms"])!, comment: row["comment"],
            createdAt: date(row["created_at_ms"]))
    }

    // MARK: what the evaluator reads

    /// The results started since a time, up to a rowid: (started at ms, rowid).
    static let recentEvents = """
        SELECT rowid, check_name, class, agent, region, profile, started_at_ms, ok, error_code,
               json_extract(json, '$.tls.version'), json_extract(json, '$.tls.earliest_expiry'), step,
               json_extract(json, '$.tls.client_cert.subject'), json_extract(json, '$.tls.client_cert.not_after')
        FROM results WHERE started_at_ms >= ? AND rowid <= ? ORDER BY started_at_ms
        """

    /// The results stored after a rowid, in storage order: (rowid, limit).
    static let eventsAfter = """
        SELECT rowid, check_name, class, agent, region, profile, started_at_ms, ok, error_code,
               json_extract(json, '$.tls.version'), json_extract(json, '$.tls.earliest_expiry'), step,
               json_extract(json, '$.tls.client_cert.subject'), json_extract(json, '$.tls.client_cert.not_after')
        FROM results WHERE rowid > ? ORDER BY rowid LIMIT ?
        """

    /// The (rowid, event) rows of `recentEvents` or `eventsAfter`.
    static func events(_ db: Database, sql: String, arguments: StatementArguments) throws -> [(Int64, ResultEvent)] {
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var events: [(Int64, ResultEvent)] = []
        while let row = try rows.next() {
            let expiry: String? = row[10]
            events.append(
                (
                    row[0],
                    ResultEvent(
                        check: row[1], endpointClass: row[2], agent: row[3], region: row[4], profile: row[5],
                        startedAt: date(row[6])!, ok: row[7], errorCode: row[8], tlsVersion: row[9],
                        certificateExpiry: expiry.flatMap(Timestamp.parse), step: row[11],
                        clientCertificate: ClientCertificateExpiry(subject: row[12], notAfterText: row[13]))
                ))
        }
        return events
    }

    /// Outcome counts per check × region over 5m, 30m, 1h and 6h in one pass over the minute rollups.
    static func burns(now: Date, in db: Database) throws -> [BurnCounts] {
        let minute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        let starts = [5, 30, 60, 360].map { minute - $0 }
        // Per window (5m, 30m, 1h, 6h) its total and its failures, each bound to the window's first minute.
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT check_name, region, MAX(class),
                    SUM(CASE WHEN minute >= ? THEN count ELSE 0 END),
                    SUM(CASE WHEN minute >= ? AND error_code != '' THEN count ELSE 0 END),
                    SUM(CASE WHEN minute >= ? THEN count ELSE 0 END),
                    SUM(CASE WHEN minute >= ? AND error_code != '' THEN count ELSE 0 END),
                    SUM(CASE WHEN minute >= ? THEN count ELSE 0 END),
                    SUM(CASE WHEN minute >= ? AND error_code != '' THEN count ELSE 0 END),
                    SUM(CASE WHEN minute >= ? THEN count ELSE 0 END),
                    SUM(CASE WHEN minute >= ? AND error_code != '' THEN count ELSE 0 END)
                FROM outcome_minute WHERE minute >= ? GROUP BY check_name, region
                """,
            arguments: StatementArguments(starts.flatMap { [$0, $0] } + [starts[3]]))
        return rows.map { row in
            func window(_ i: Int) -> BurnCounts.Window { .init(total: row[3 + 2 * i], failed: row[4 + 2 * i]) }
            return BurnCounts(
                check: row[0], endpointClass: row[2], region: row[1], fiveMinutes: window(0), thirtyMinutes: window(1),
                oneHour: window(2), sixHours: window(3))
        }
    }

    // MARK: cursor

    static func cursor(in db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT value FROM alert_cursor WHERE name = 'results'")
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(_ milliseconds: Int64?) -> Date? {
        milliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }
}

import Foundation
import PostgresNIO
import SondaCore

/// The alert tables on PostgreSQL: burn counts, alert state, silences. What the evaluator reads of
/// the results is in PostgresStore+Events.swift.
extension PostgresStore {
    public func burnCounts(now: Date) async throws -> [BurnCounts] {
        try await withConnection { [logger] connection in
            let minute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
            let s = [5, 30, 60, 360].map { minute - $0 }
            let rows = try await connection.rows(
                """
                SELECT check_name, region, MAX(class),
                    SUM(count) FILTER (WHERE minute >= \(s[0]))::bigint,
                    SUM(count) FILTER (WHERE minute >= \(s[0]) AND error_code != '')::bigint,
                    SUM(count) FILTER (WHERE minute >= \(s[1]))::bigint,
                    SUM(count) FILTER (WHERE minute >= \(s[1]) AND error_code != '')::bigint,
                    SUM(count) FILTER (WHERE minute >= \(s[2]))::bigint,
                    SUM(count) FILTER (WHERE minute >= \(s[2]) AND error_code != '')::bigint,
                    SUM(count)::bigint,
                    SUM(count) FILTER (WHERE error_code != '')::bigint
                FROM \(unescaped: MinuteRollup.Span.minute.outcomeSource)
                WHERE minute >= \(s[3]) GROUP BY check_name, region
                """, logger: logger)
            var burns: [BurnCounts] = []
            for row in rows {
                let (check, region, endpointClass, t5, f5, t30, f30, t60, f60, t360, f360) = try row.decode(
                    (String, String, String, Int?, Int?, Int?, Int?, Int?, Int?, Int?, Int?).self)
                func window(_ total: Int?, _ failed: Int?) -> BurnCounts.Window {
                    .init(total: total ?? 0, failed: failed ?? 0)
                }
                burns.append(
                    BurnCounts(
                        check: check, endpointClass: endpointClass, region: region, fiveMinutes: window(t5, f5),
                        thirtyMinutes: window(t30, f30), oneHour: window(t60, f60), sixHours: window(t360, f360)))
            }
            return burns
        }
    }

    public func saveAlerts(
        _ evaluation: AlertEngine.Evaluation, cursor: Int64?, at now: Date, lease: Lease, notifications: [Notification]
    ) async throws {
        try await withConnection { [logger] connection in
            try await connection.withTransaction(logger: logger) { connection in
                try await Self.fence(lease, on: connection, logger: logger)
                try await Self.queue(notifications, on: connection, logger: logger)
                try await Self.upsert(evaluation.updated, on: connection, logger: logger)
                if !evaluation.dropped.isEmpty {
                    try await connection.query(
                        """
                        DELETE FROM alerts a USING UNNEST(\(evaluation.dropped.map(\.fingerprint))::text[],
                                                          \(evaluation.dropped.map { Self.milliseconds($0.activeSince) })::bigint[])
                                                   AS d(fingerprint, active_since_ms)
                        WHERE a.fingerprint = d.fingerprint AND a.active_since_ms = d.active_since_ms
                        """, logger: logger)
                }
                if let cursor {
                    try await connection.query(
                        """
                        INSERT INTO alert_cursor (name, value) VALUES ('results', \(cursor))
                        ON CONFLICT (name) DO UPDATE SET value = excluded.value
                        """, logger: logger)
                }
                try await connection.query(
                    """
                    DELETE FROM alerts WHERE state = 'resolved'
                    AND ends_at_ms < \(Self.milliseconds(now.addingTimeInterval(-AlertHistory.kept)))
                    """, logger: logger)
                for change in evaluation.changes where change.transition != .dropped {
                    try await Self.appendAudit(
                        kind: "alert", detail: AlertRecord.auditDetail(change), at: now, on: connection, logger: logger)
                }
            }
        }
    }

    /// Writes a round's alerts in one statement: a round after a region's outage changes thousands
    /// at once, and a statement each took minutes on a loaded machine. An absent time travels as
    /// `Int64.min` (arrays of postgres-nio hold no NULL) and is stored as NULL.
    static func upsert(_ alerts: [TrackedAlert], on connection: PostgresConnection, logger: Logger) async throws {
        // One row per key: ON CONFLICT cannot change a row twice in one statement.
        var byKey: [String: TrackedAlert] = [:]
        for a in alerts { byKey["\(a.fingerprint) \(milliseconds(a.activeSince))"] = a }
        let rows = Array(byKey.values)
        guard !rows.isEmpty else { return }
        func time(_ date: Date?) -> Int64 { date.map(milliseconds) ?? .min }
        try await connection.query(
            """
            INSERT INTO alerts (fingerprint, active_since_ms, labels, severity, state, silenced, summary,
                                description, starts_at_ms, ends_at_ms, last_sent_ms, false_since_ms)
            SELECT fingerprint, active_since_ms, labels, severity, state, silenced, summary, description,
                   NULLIF(starts_at_ms, \(Int64.min)), NULLIF(ends_at_ms, \(Int64.min)),
                   NULLIF(last_sent_ms, \(Int64.min)), NULLIF(false_since_ms, \(Int64.min))
            FROM UNNEST(\(rows.map(\.fingerprint))::text[], \(rows.map { milliseconds($0.activeSince) })::bigint[],
                        \(try rows.map { try AlertRecord.labelsJSON($0.labels) })::text[],
                        \(rows.map(\.severity.rawValue))::text[], \(rows.map(\.state.rawValue))::text[],
                        \(rows.map(\.silenced))::boolean[], \(rows.map(\.summary))::text[],
                        \(rows.map(\.description))::text[], \(rows.map { time($0.startsAt) })::bigint[],
                        \(rows.map { time($0.endsAt) })::bigint[], \(rows.map { time($0.lastSent) })::bigint[],
                        \(rows.map { time($0.falseSince) })::bigint[])
                 AS a(fingerprint, active_since_ms, labels, severity, state, silenced, summary, description,
                      starts_at_ms, ends_at_ms, last_sent_ms, false_since_ms)
            ON CONFLICT (fingerprint, active_since_ms) DO UPDATE SET labels = excluded.labels,
                severity = excluded.severity, state = excluded.state, silenced = excluded.silenced,
                summary = excluded.summary, description = excluded.description,
                starts_at_ms = excluded.starts_at_ms, ends_at_ms = excluded.ends_at_ms,
                last_sent_ms = excluded.last_sent_ms, false_since_ms = excluded.false_since_ms
            """, logger: logger)
    }

    static var activeQuery: PostgresQuery {
        "SELECT \(unescaped: alertColumns) FROM alerts WHERE state IN ('pending', 'firing')"
    }

    public func activeAlerts() async throws -> [TrackedAlert] {
        try await withConnection { [logger] connection in
            try await Self.alerts(Self.activeQuery, on: connection, logger: logger)
        }
    }

    public func alerts(_ selection: AlertSelection, after position: AlertPosition?, limit: Int) async throws
        -> [TrackedAlert]
    {
        try await withConnection { [logger] connection in
            var alerts: [TrackedAlert] = []
            for (group, after) in selection.groups(after: position) where alerts.count < limit {
                let query = Self.alertPage(group, of: selection, after: after, limit: limit - alerts.count)
                alerts += try await Self.alerts(query, on: connection, logger: logger)
            }
            return alerts
        }
    }

    /// A page of one group of `AlertSelection`'s order, by keyset. Text compares in the C
    /// collation, byte by byte, as SQLite's does, so both stores page alike.
    static func alertPage(_ group: AlertPosition.Group, of selection: AlertSelection, after: AlertPosition?, limit: Int)
        -> PostgresQuery
    {
        // A position before every alert of the group when none is given (no start or end is
        // Int64.max): one statement for every page.
        let (key, activeSince, fingerprint) =
            after.map { ($0.key, $0.activeSinceMilliseconds, $0.fingerprint) } ?? (.max, .max, "")
        switch group {
        case .live:
            let states = selection.live.map(\.rawValue).sorted()
            return """
                SELECT \(unescaped: alertColumns) FROM alerts WHERE state = ANY(\(states))
                AND (COALESCE(starts_at_ms, -1), active_since_ms, fingerprint COLLATE "C")
                    < (\(key), \(activeSince), \(fingerprint))
                ORDER BY COALESCE(starts_at_ms, -1) DESC, active_since_ms DESC, fingerprint COLLATE "C" DESC
                LIMIT \(limit)
                """
        case .resolved:
            let since = milliseconds(selection.resolvedSince ?? .distantPast)
            return """
                SELECT \(unescaped: alertColumns) FROM alerts WHERE state = 'resolved' AND ends_at_ms >= \(since)
                AND (ends_at_ms, active_since_ms, fingerprint COLLATE "C") < (\(key), \(activeSince), \(fingerprint))
                ORDER BY ends_at_ms DESC, active_since_ms DESC, fingerprint COLLATE "C" DESC
                LIMIT \(limit)
                """
        }
    }

    static let alertColumns = """
        fingerprint, active_since_ms, labels, severity, state, silenced, summary, description, starts_at_ms,
        ends_at_ms, last_sent_ms, false_since_ms
        """

    static func alerts(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws
        -> [TrackedAlert]
    {
        var alerts: [TrackedAlert] = []
        for row in try await connection.rows(query, logger: logger) {
            let (
                fingerprint, activeSince, labels, _, state, silenced, summary, description, startsAt, endsAt, lastSent,
                falseSince
            ) = try row.decode(
                (String, Int64, String, String, String, Bool, String, String, Int64?, Int64?, Int64?, Int64?).self)
            alerts.append(
                TrackedAlert(
                    fingerprint: fingerprint,
                    labels: try AlertRecord.labels(fromJSON: labels),
                    summary: summary, description: description,
                    state: TrackedAlert.State(rawValue: state) ?? .resolved, activeSince: Self.date(activeSince),
                    startsAt: startsAt.map(Self.date), endsAt: endsAt.map(Self.date), lastSent: lastSent.map(Self.date),
                    falseSince: falseSince.map(Self.date), silenced: silenced))
        }
        return alerts
    }

    public func silences(notEndedAt now: Date, after position: SilencePosition?, limit: Int) async throws
        -> [Silence]
    {
        // A position before every silence when none is given: one statement for every page.
        let (endsAt, id) = position.map { ($0.endsAtMilliseconds, $0.id) } ?? (Int64.min, "")
        return try await withConnection { [logger] connection in
            let rows = try await connection.rows(
                """
                SELECT id, matchers, starts_at_ms, ends_at_ms, comment, created_at_ms FROM silences
                WHERE ends_at_ms > \(Self.milliseconds(now)) AND (ends_at_ms, id COLLATE "C") > (\(endsAt), \(id))
                ORDER BY ends_at_ms, id COLLATE "C" LIMIT \(limit)
                """, logger: logger)
            var silences: [Silence] = []
            for (id, matchers, startsAt, endsAt, comment, createdAt) in try rows.decode(
                (String, String, Int64, Int64, String, Int64).self)
            {
                silences.append(
                    Silence(
                        id: id, matchers: try AlertRecord.labels(fromJSON: matchers),
                        startsAt: Self.date(startsAt), endsAt: Self.date(endsAt), comment: comment,
                        createdAt: Self.date(createdAt)))
            }
            return silences
        }
    }

    public func insert(_ s: Silence) async throws {
        try await withConnection { [logger] connection in
            let logger = logger
            let matchers = try AlertRecord.labelsJSON(s.matchers)
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO silences (id, matchers, starts_at_ms, ends_at_ms, comment, created_at_ms)
                    VALUES (\(s.id), \(matchers), \(Self.milliseconds(s.startsAt)), \(Self.milliseconds(s.endsAt)),
                            \(s.comment), \(Self.milliseconds(s.createdAt)))
                    """, logger: logger)
                try await Self.appendAudit(
                    kind: "silence", detail: try AlertRecord.auditDetail(s), at: s.createdAt, on: connection,
                    logger: logger)
            }
        }
    }

    public func expireSilence(id: String, at now: Date) async throws -> Silence? {
        try await withConnection { [logger] connection in
            let logger = logger
            return try await connection.withTransaction(logger: logger) { connection in
                let rows = try await connection.rows(
                    """
                    SELECT matchers, starts_at_ms, ends_at_ms, comment, created_at_ms FROM silences
                    WHERE id = \(id) AND ends_at_ms > \(Self.milliseconds(now)) FOR UPDATE
                    """, logger: logger)
                var found: Silence?
                for (matchers, startsAt, endsAt, comment, createdAt) in try rows.decode(
                    (String, Int64, Int64, String, Int64).self)
                {
                    found = Silence(
                        id: id, matchers: try AlertRecord.labels(fromJSON: matchers), startsAt: Self.date(startsAt),
                        endsAt: Self.date(endsAt), comment: comment, createdAt: Self.date(createdAt))
                }
                guard var s = found else { return nil }
                s.expire(at: now)
                try await connection.query(
                    """
                    UPDATE silences SET starts_at_ms = \(Self.milliseconds(s.startsAt)),
                        ends_at_ms = \(Self.milliseconds(s.endsAt)) WHERE id = \(id)
                    """, logger: logger)
                try await Self.appendAudit(
                    kind: "silence", detail: try AlertRecord.expiryDetail(s), at: now, on: connection, logger: logger)
                return s
            }
        }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

import Foundation
import PostgresNIO
import SondaCore

/// The alert tables on PostgreSQL. The evaluator's cursor is a transaction id, not a row number:
/// with several writers, a row numbered 100 can commit after row 101 has been read, and a row
/// cursor would skip it. Rows are read only from transactions older than every transaction still
/// running (`pg_snapshot_xmin`), which can gain no more rows, in transaction order.
extension PostgresStore {
    /// A result's TLS report as `tls` (jsonb): from `tls_json`, or where that was not filled in
    /// (see the v10 migration) from the whole stored text, parsed once a row (`OFFSET 0` keeps the
    /// planner from copying the cast into each read).
    static let parsedTLS = """
        CROSS JOIN LATERAL (SELECT CASE WHEN tls_json IS NULL THEN json::jsonb -> 'tls'
                                        ELSE NULLIF(tls_json, '')::jsonb END AS tls OFFSET 0) AS parsed
        """

    /// A result's columns for the evaluator. The six that name its series come as one `text[]`,
    /// which `events` reads as bytes and turns into strings once per distinct series in a read:
    /// a page of 20 000 results names a few hundred series, and decoding 14 columns a row was
    /// most of what reading cost the lease holder.
    static let eventColumns = """
        SELECT ingest_xid::text::bigint, ARRAY[check_name, class, agent, region, profile, step], started_at_ms, ok,
            error_code, tls #>> '{version}', tls #>> '{earliest_expiry}',
            tls #>> '{client_cert,subject}', tls #>> '{client_cert,not_after}'
        FROM results \(parsedTLS)
        """

    static func events(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [(
        Int64, ResultEvent
    )] {
        var events: [(Int64, ResultEvent)] = []
        var series: [ByteBuffer: EventSeries] = [:]
        let rows = try await connection.rows(query, logger: logger)
        events.reserveCapacity(rows.count)
        for row in rows {
            let (xid, names, ms, ok, code, version, expiry, subject, notAfter) = try row.decode(
                (Int64, ByteBuffer, Int64, Bool, String?, String?, String?, String?, String?).self)
            let s: EventSeries
            if let known = series[names] {
                s = known
            } else {
                s = try EventSeries(names)
                series[names] = s
            }
            events.append(
                (
                    xid,
                    ResultEvent(
                        check: s.check, endpointClass: s.endpointClass, agent: s.agent, region: s.region,
                        profile: s.profile, startedAt: Date(timeIntervalSince1970: Double(ms) / 1000), ok: ok,
                        errorCode: code, tlsVersion: version, certificateExpiry: expiry.flatMap(Timestamp.parse),
                        step: s.step, clientCertificate: ClientCertificateExpiry(subject: subject, notAfterText: notAfter))
                ))
        }
        return events
    }

    /// The names of an event's series, from `eventColumns`' array in PostgreSQL's binary format:
    /// a header (dimensions, a has-nulls flag, the element type, then each dimension's length and
    /// lower bound) and each element as its length (-1 for NULL) and bytes.
    struct EventSeries {
        var check: String, endpointClass: String, agent: String, region: String, profile: String
        var step: String?

        init(_ array: ByteBuffer) throws {
            var buffer = array
            guard buffer.readInteger(as: Int32.self) == 1, buffer.readInteger(as: Int32.self) != nil,
                buffer.readInteger(as: UInt32.self) != nil, buffer.readInteger(as: Int32.self) == 6,
                buffer.readInteger(as: Int32.self) != nil
            else { throw Self.unreadable }
            var texts: [String?] = []
            for _ in 0..<6 {
                guard let length = buffer.readInteger(as: Int32.self) else { throw Self.unreadable }
                if length < 0 {
                    texts.append(nil)
                } else {
                    guard let text = buffer.readString(length: Int(length)) else {
                        throw Self.unreadable
                    }
                    texts.append(text)
                }
            }
            (check, endpointClass, agent, region, profile, step) =
                (texts[0] ?? "", texts[1] ?? "", texts[2] ?? "", texts[3] ?? "", texts[4] ?? "", texts[5])
        }

        static let unreadable = PostgresStoreError.failed(Unreadable())

        struct Unreadable: Error, CustomStringConvertible {
            var description: String { "the server answered an event's names in an unexpected form" }
        }
    }

    public func alertStart(since: Date) async throws -> AlertStart {
        try await withConnection { [logger] connection in
            var saved: Int64?
            for value in try await connection.rows(
                "SELECT value FROM alert_cursor WHERE name = 'results'", logger: logger
            ).decode(Int64.self) {
                saved = value
            }
            if saved == nil {
                for xmin in try await connection.rows(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1", logger: logger
                ).decode(Int64.self) {
                    saved = xmin
                }
            }
            let cursor = saved ?? 0
            let recent = try await Self.events(
                """
                \(unescaped: Self.eventColumns)
                WHERE started_at_ms >= \(Self.milliseconds(since)) AND ingest_xid <= \(String(cursor))::xid8
                ORDER BY started_at_ms
                """, on: connection, logger: logger)
            let active = try await Self.alerts(Self.activeQuery, on: connection, logger: logger)
            return AlertStart(active: active, cursor: cursor, recent: recent.map(\.1))
        }
    }

    /// Up to `limit + 1` events after `cursor`, in transaction order, from transactions that are
    /// over. Run after `indexOrder`, it walks the (ingest_xid, seq) index and stops there. Without
    /// it, a partition with no statistics yet (a new day, a burst) is read whole and sorted for
    /// every page: 14 times the walk's cost for 20 000 rows of 120 000. `results.`, as a bare
    /// `ingest_xid` would sort by the first output column, which is named after it.
    static func eventsPage(after cursor: Int64, limit: Int) -> PostgresQuery {
        """
        \(unescaped: eventColumns)
        WHERE ingest_xid > \(String(cursor))::xid8 AND ingest_xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY results.ingest_xid, results.seq LIMIT \(limit + 1)
        """
    }

    static let indexOrder: PostgresQuery = "SET LOCAL enable_sort = off"

    public func resultEvents(after cursor: Int64, limit: Int) async throws -> (events: [ResultEvent], last: Int64?) {
        try await withConnection { [logger] connection in
            // The transactions after the cursor that are over, whole: one read of up to limit + 1
            // rows in transaction order, less the transaction holding the last of them (it may go
            // on past the read); or, when that is the first, a second read of it alone, whole. (A
            // first query for the bound then a second for the rows read the same index range twice:
            // a quarter of what evaluating cost the server.)
            var rows = try await connection.withTransaction(logger: logger) { connection in
                try await connection.query(Self.indexOrder, logger: logger)
                return try await Self.events(Self.eventsPage(after: cursor, limit: limit), on: connection, logger: logger)
            }
            if rows.count > limit, let first = rows.first?.0 {
                let bound = rows[limit].0
                if bound == first {
                    rows = try await Self.events(
                        """
                        \(unescaped: Self.eventColumns)
                        WHERE ingest_xid = \(String(first))::xid8 ORDER BY seq
                        """, on: connection, logger: logger)
                } else {
                    rows.removeSubrange((rows.firstIndex { $0.0 == bound } ?? limit)...)
                }
            }
            return (rows.map(\.1), rows.last?.0)
        }
    }

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

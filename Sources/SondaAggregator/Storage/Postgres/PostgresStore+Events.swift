import Foundation
import PostgresNIO
import SondaCore

/// What the alert evaluator reads of the results on PostgreSQL. Its cursor is a transaction id,
/// not a row number: with several writers, a row numbered 100 can commit after row 101 has been
/// read, and a row cursor would skip it. Rows are read only from transactions older than every transaction still
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
    /// which `events` reads as bytes and turns into strings once per distinct series in a read
    /// (a page of 20 000 results names a few hundred): with 14 columns decoded a row, the read
    /// was 6 % of the replicas' CPU under `bench/pg-ingest.sh`, 3.5 % this way.
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
            var cells = EventCells(row)
            let (xid, names, ms, ok) = (try cells.bigint(), try cells.names(), try cells.bigint(), try cells.boolean())
            let (code, version, expiry, subject, notAfter) =
                (try cells.text(), try cells.text(), try cells.text(), try cells.text(), try cells.text())
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

    /// An event row's cells, read in `eventColumns`' order from their binary form. postgres-nio's
    /// `decode` of the nine columns looked up generic type metadata at every cell (`perf` under
    /// `bench/pg-ingest.sh`: the decoding's own samples went from 2.3 % of the replicas' to 0.4 %).
    struct EventCells {
        private var cells: PostgresRow.Iterator

        init(_ row: PostgresRow) { cells = row.makeIterator() }

        private mutating func next(_ type: PostgresDataType) throws -> ByteBuffer? {
            guard let cell = cells.next(), cell.dataType == type, cell.format == .binary else {
                throw EventSeries.unreadable
            }
            return cell.bytes
        }

        mutating func bigint() throws -> Int64 {
            guard var bytes = try next(.int8), bytes.readableBytes == 8, let value = bytes.readInteger(as: Int64.self)
            else { throw EventSeries.unreadable }
            return value
        }

        mutating func boolean() throws -> Bool {
            guard let bytes = try next(.bool), bytes.readableBytes == 1, let value = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self)
            else { throw EventSeries.unreadable }
            return value != 0
        }

        /// A text, or nil for NULL.
        mutating func text() throws -> String? {
            try next(.text).map { String(buffer: $0) }
        }

        /// The series' names, for `EventSeries`.
        mutating func names() throws -> ByteBuffer {
            guard let bytes = try next(.textArray) else { throw EventSeries.unreadable }
            return bytes
        }
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
            var description: String { "the server answered an event's columns in an unexpected form" }
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
}

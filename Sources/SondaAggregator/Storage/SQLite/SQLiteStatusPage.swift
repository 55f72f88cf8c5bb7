import Foundation
import GRDB
import SondaConfig
import SondaCore

// The status page's queries on SQLite: each fills its view's value from the rollups and results.

extension UptimeHistory {
    static func load(slo: AggregatorConfig.Objective, now: Date, in db: Database) throws -> UptimeHistory {
        var builder = Builder(now: now)
        let hourRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT check_name, class, region, hour, error_code != '', SUM(count) FROM outcome_hour
                WHERE hour >= ? GROUP BY 1, 2, 3, 4, 5
                """, arguments: [builder.firstHour])
        while let row = try hourRows.next() {
            builder.addHour(
                check: row[0], endpointClass: row[1], region: row[2], hour: row[3], failed: row[4], count: row[5])
        }
        let dayRows = try Row.fetchCursor(
            db,
            sql:
                "SELECT check_name, class, day, error_code != '', SUM(count) FROM outcome_day WHERE day >= ? GROUP BY 1, 2, 3, 4",
            arguments: [builder.firstDay])
        while let row = try dayRows.next() {
            builder.addDay(check: row[0], endpointClass: row[1], day: row[2], failed: row[3], count: row[4])
        }
        let span = RollupSpan(window: slo.window, now: now)
        let sloRows = try Row.fetchCursor(
            db,
            sql: SQLiteStatusPageSQL.outcomesPerCheck(span.granularity), arguments: [span.since])
        while let row = try sloRows.next() {
            builder.addSLOWindow(check: row[0], failed: row[1], count: row[2])
        }
        return builder.build()
    }
}

extension CertificateExpiry {
    static func load(checks: [String], now: Date, in db: Database) throws -> CertificateExpiry {
        let statement = try db.cachedStatement(
            sql: """
                SELECT agent, started_at_ms, json_extract(json, '$.tls.earliest_expiry'),
                    coalesce(json_extract(json, '$.tls.leaf.sans[0]'), json_extract(json, '$.tls.leaf.subject')),
                    json_extract(json, '$.tls.version'), json_extract(json, '$.tls.client_cert.subject'),
                    json_extract(json, '$.tls.client_cert.not_after')
                FROM results WHERE check_name = ? ORDER BY started_at_ms DESC LIMIT ?
                """)
        var entries: [Entry] = []
        for check in checks {
            let observations = try Row.fetchAll(statement, arguments: [check, latestResults]).map {
                Observation(
                    agent: $0[0], startedAtMilliseconds: $0[1], earliestExpiry: $0[2], leafName: $0[3], version: $0[4],
                    clientSubject: $0[5], clientExpiry: $0[6])
            }
            entries += Self.entries(check: check, newestFirst: observations)
        }
        return CertificateExpiry(unsorted: entries)
    }
}

extension CheckLatency {
    static func load(check: String, bucketing: Bucketing, profile: String?, now: Date, in db: Database) throws
        -> CheckLatency
    {
        var builder = Builder(bucketing: bucketing, profile: profile, now: now)
        let span = builder.outcomeSpan
        for row in try GRDB.Row.fetchAll(
            db,
            sql: SQLiteStatusPageSQL.checkOutcomes(span), arguments: [builder.outcomeSince, check])
        {
            builder.addOutcome(region: row[0], profile: row[1], endpointClass: row[2], errorCode: row[3], count: row[4])
        }
        let (regions, shownProfiles) = (builder.regions, builder.shownProfiles)
        if !regions.isEmpty {
            // Phases as their index and the row key only for totals, and the histogram read in
            // place: a day of a check's minutes is a quarter of a million rows, and per-row strings
            // and copies would cost more than the database. One index seek per minute × region ×
            // profile (`minute IN (…) AND region IN (…)`), so a check's page does not scan the
            // whole fleet's minutes.
            // The query numbers phases in `phaseOrder`; the builder wants their place in `phases`.
            let place = SQLiteStatusPageSQL.phaseOrder.map { phases.firstIndex(of: $0) ?? -1 }
            let marks = { (n: Int) in Array(repeating: "?", count: n).joined(separator: ", ") }
            var arguments: StatementArguments = [builder.firstMinute, builder.lastMinute]
            arguments += StatementArguments(regions)
            arguments += StatementArguments(shownProfiles)
            arguments += [check]
            arguments += StatementArguments(phases.map(\.rawValue))
            let cursor = try GRDB.Row.fetchCursor(
                db,
                sql: """
                    WITH RECURSIVE m(minute) AS (SELECT ? UNION ALL SELECT minute + 1 FROM m WHERE minute < ?)
                    SELECT minute,
                        CASE phase WHEN 'dns' THEN 0 WHEN 'connect' THEN 1 WHEN 'proxy' THEN 2 WHEN 'tls' THEN 3
                        WHEN 'send' THEN 4 WHEN 'wait' THEN 5 WHEN 'receive' THEN 6 WHEN 'total' THEN 7 END, histogram,
                        CASE WHEN phase = 'total' THEN region || '|' || profile || '|' || class END
                    FROM latency_minute
                    WHERE minute IN (SELECT minute FROM m) AND region IN (\(marks(regions.count)))
                    AND profile IN (\(marks(shownProfiles.count))) AND check_name = ?
                    AND phase IN (\(marks(phases.count)))
                    """, arguments: arguments)
            while let row = try cursor.next() {
                let (minute, order, key): (Int64, Int, String?) = (row[0], row[1], row[3])
                let phase = place[order]
                try row.withUnsafeData(atIndex: 2) { data in
                    data?.withUnsafeBytes { bytes in
                        builder.addHistogram(minute: minute, phase: phase, sliceKey: key, serialized: bytes)
                    }
                }
            }
        }
        return builder.build()
    }
}

extension CheckFailures {
    static func load(
        check: String, regions: [String], profiles: [String], fromMinute: Int64, toMinute: Int64, limit: Int,
        in db: Database
    ) throws -> CheckFailures {
        guard !regions.isEmpty, !profiles.isEmpty else { return CheckFailures(failures: []) }
        let marks = { (n: Int) in Array(repeating: "?", count: n).joined(separator: ", ") }
        var arguments: StatementArguments = [fromMinute, toMinute]
        arguments += StatementArguments(regions)
        arguments += StatementArguments(profiles)
        arguments += [check]
        let minutes = try Int64.fetchAll(
            db,
            sql: """
                WITH RECURSIVE m(minute) AS (SELECT ? UNION ALL SELECT minute + 1 FROM m WHERE minute < ?)
                SELECT DISTINCT minute FROM outcome_minute
                WHERE minute IN (SELECT minute FROM m) AND region IN (\(marks(regions.count)))
                AND profile IN (\(marks(profiles.count))) AND check_name = ? AND error_code != ''
                ORDER BY minute DESC
                """, arguments: arguments)
        let statement = try db.cachedStatement(
            sql: """
                SELECT started_at_ms, agent, region, profile, step, error_code,
                    json_extract(json, '$.error.message'), json_extract(json, '$.http.status')
                FROM results WHERE check_name = ? AND started_at_ms >= ? AND started_at_ms < ? AND ok = 0
                ORDER BY started_at_ms DESC, id DESC LIMIT ?
                """)
        let profileSet = Set(profiles)
        var failures: [Failure] = []
        for minute in minutes where failures.count < limit {
            let rows = try Row.fetchAll(
                statement, arguments: [check, minute * 60_000, (minute + 1) * 60_000, limit - failures.count])
            for row in rows where profileSet.contains(row[3]) {
                failures.append(
                    Failure(
                        at: Date(timeIntervalSince1970: Double(row[0] as Int64) / 1000), agent: row[1], region: row[2],
                        profile: row[3], step: row[4], code: row[5] as String? ?? "internal",
                        message: row[6] as String? ?? "",
                        httpStatus: row[7]))
            }
        }
        return CheckFailures(failures: failures)
    }
}

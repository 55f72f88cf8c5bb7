import Foundation
import NIOCore
import PostgresNIO
import SondaConfig
import SondaCore

extension PostgresStore {
    public func uptimeHistory(slo: AggregatorConfig.Objective, now: Date) async throws -> UptimeHistory {
        try await withConnection { [logger] connection in
            var builder = UptimeHistory.Builder(now: now)
            let hours = try await connection.rows(
                """
                SELECT check_name, class, region, hour, error_code != '', SUM(count)::bigint
                FROM \(unescaped: MinuteRollup.Span.hour.outcomeSource)
                WHERE hour >= \(builder.firstHour) GROUP BY 1, 2, 3, 4, 5
                """, logger: logger)
            for (check, endpointClass, region, hour, failed, count) in try hours.decode(
                (String, String, String, Int64, Bool, Int).self)
            {
                builder.addHour(
                    check: check, endpointClass: endpointClass, region: region, hour: hour, failed: failed, count: count
                )
            }
            let days = try await connection.rows(
                """
                SELECT check_name, class, day, error_code != '', SUM(count)::bigint
                FROM \(unescaped: MinuteRollup.Span.day.outcomeSource)
                WHERE day >= \(builder.firstDay) GROUP BY 1, 2, 3, 4
                """, logger: logger)
            for (check, endpointClass, day, failed, count) in try days.decode(
                (String, String, Int64, Bool, Int).self)
            {
                builder.addDay(check: check, endpointClass: endpointClass, day: day, failed: failed, count: count)
            }
            let span = RollupSpan(window: slo.window, now: now)
            var binds = PostgresBindings()
            binds.append(span.since)
            let window = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT check_name, error_code != '', SUM(count)::bigint FROM \(span.outcomeSource)
                        WHERE \(span.column) >= $1 GROUP BY 1, 2
                        """, binds: binds), logger: logger)
            for (check, failed, count) in try window.decode((String, Bool, Int).self) {
                builder.addSLOWindow(check: check, failed: failed, count: count)
            }
            return builder.build()
        }
    }

    public func certificateExpiry(checks: [String], now: Date) async throws -> CertificateExpiry {
        try await withConnection { [logger] connection in
            var entries: [CertificateExpiry.Entry] = []
            for check in checks {
                let rows = try await connection.rows(
                    """
                    SELECT agent, started_at_ms, tls #>> '{earliest_expiry}',
                        coalesce(tls #>> '{leaf,sans,0}', tls #>> '{leaf,subject}'), tls #>> '{version}',
                        tls #>> '{client_cert,subject}', tls #>> '{client_cert,not_after}'
                    FROM results \(unescaped: Self.parsedTLS)
                    WHERE check_name = \(check) ORDER BY started_at_ms DESC
                    LIMIT \(CertificateExpiry.latestResults)
                    """, logger: logger)
                var observations: [CertificateExpiry.Observation] = []
                for (agent, ms, expiry, name, version, clientSubject, clientExpiry) in try rows.decode(
                    (String, Int64, String?, String?, String?, String?, String?).self)
                {
                    observations.append(
                        .init(
                            agent: agent, startedAtMilliseconds: ms, earliestExpiry: expiry, leafName: name,
                            version: version, clientSubject: clientSubject, clientExpiry: clientExpiry))
                }
                entries += CertificateExpiry.entries(check: check, newestFirst: observations)
            }
            return CertificateExpiry(unsorted: entries)
        }
    }

    public func checkLatency(check: String, bucketing: CheckLatency.Bucketing, profile: String?, now: Date)
        async throws -> CheckLatency
    {
        try await withConnection { [logger] connection in
            var builder = CheckLatency.Builder(bucketing: bucketing, profile: profile, now: now)
            let span = builder.outcomeSpan
            var binds = PostgresBindings()
            binds.append(builder.outcomeSince)
            binds.append(check)
            let outcomes = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT region, profile, class, error_code, SUM(count)::bigint FROM \(span.outcomeSource)
                        WHERE \(span.column) >= $1 AND check_name = $2 GROUP BY 1, 2, 3, 4
                        """, binds: binds), logger: logger)
            for (region, shown, endpointClass, code, count) in try outcomes.decode(
                (String, String, String, String, Int).self)
            {
                builder.addOutcome(
                    region: region, profile: shown, endpointClass: endpointClass, errorCode: code, count: count)
            }
            let (regions, shownProfiles) = (builder.regions, builder.shownProfiles)
            guard !regions.isEmpty else { return builder.build() }
            // Column names from the closed set of phases (`PhaseHistograms`).
            let phases = CheckLatency.phases.map(\.rawValue)
            let total = phases.firstIndex(of: "total")
            let rows = try await connection.rows(
                """
                SELECT minute, region || '|' || profile || '|' || class, \(unescaped: phases.joined(separator: ", "))
                FROM \(unescaped: MinuteRollup.Span.minute.latencySource)
                WHERE check_name = \(check) AND minute BETWEEN \(builder.firstMinute) AND \(builder.lastMinute)
                AND region = ANY(\(regions)) AND profile = ANY(\(shownProfiles))
                """, logger: logger)
            for row in rows {
                let cells = row.makeRandomAccess()
                let minute = try cells[0].decode(Int64.self)
                let key = try cells[1].decode(String.self)
                for phase in phases.indices {
                    let histogram = try cells[2 + phase].decode(ByteBuffer.self)
                    guard histogram.readableBytes > 0 else { continue }
                    histogram.withUnsafeReadableBytes { bytes in
                        builder.addHistogram(
                            minute: minute, phase: phase, sliceKey: phase == total ? key : nil, serialized: bytes)
                    }
                }
            }
            return builder.build()
        }
    }

    public func checkFailures(
        check: String, regions: [String], profiles: [String], fromMinute: Int64, toMinute: Int64, limit: Int
    ) async throws -> CheckFailures {
        try await withConnection { [logger] connection in
            guard !regions.isEmpty, !profiles.isEmpty else { return CheckFailures(failures: []) }
            // The minutes with failures first, from the outcome rollups, so a check that rarely fails
            // does not cost a scan of all its results.
            var minutes: [Int64] = []
            for minute in try await connection.rows(
                """
                SELECT DISTINCT minute FROM \(unescaped: MinuteRollup.Span.minute.outcomeSource)
                WHERE check_name = \(check) AND minute BETWEEN \(fromMinute) AND \(toMinute)
                AND region = ANY(\(regions)) AND profile = ANY(\(profiles)) AND error_code != ''
                ORDER BY minute DESC
                """, logger: logger
            ).decode(Int64.self) {
                minutes.append(minute)
            }
            let profileSet = Set(profiles)
            var failures: [CheckFailures.Failure] = []
            for minute in minutes where failures.count < limit {
                let rows = try await connection.rows(
                    """
                    SELECT started_at_ms, agent, region, profile, step, error_code,
                        json::jsonb #>> '{error,message}', (json::jsonb #>> '{http,status}')::int
                    FROM results
                    WHERE check_name = \(check) AND started_at_ms >= \(minute * 60_000)
                    AND started_at_ms < \((minute + 1) * 60_000) AND NOT ok
                    ORDER BY started_at_ms DESC, id DESC LIMIT \(limit - failures.count)
                    """, logger: logger)
                for (ms, agent, region, profile, step, code, message, status) in try rows.decode(
                    (Int64, String, String, String, String?, String?, String?, Int?).self)
                where profileSet.contains(profile) {
                    failures.append(
                        CheckFailures.Failure(
                            at: Date(timeIntervalSince1970: Double(ms) / 1000), agent: agent, region: region,
                            profile: profile, step: step, code: code ?? "internal", message: message ?? "",
                            httpStatus: status))
                }
            }
            return CheckFailures(failures: failures)
        }
    }
}

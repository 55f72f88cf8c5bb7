import Foundation
import GRDB
import SondaConfig
import SondaCore

// The status page's queries on SQLite: each fills its view's value from the rollups and results.

extension UptimeHistory {
    static func load(slo: AggregatorConfig.Objective, now: Date, in db: Database) throws -> UptimeHistory {
        let hour = Int64((now.timeIntervalSince1970 / 3600).rounded(.down))
        let day = hour.floorDivided(by: 24)
        var checks: [String: Check] = [:]
        let hourRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT check_name, class, region, hour, error_code != '', SUM(count) FROM outcome_hour
                WHERE hour >= ? GROUP BY 1, 2, 3, 4, 5
                """, arguments: [hour - 23])
        while let row = try hourRows.next() {
            let name: String = row[0]
            let index = Int((row[3] as Int64) - (hour - 23))
            guard (0..<24).contains(index) else { continue }
            checks[name, default: Check(name: name, endpointClass: row[1])].regions.insert(row[2])
            checks[name]!.hours[index].add(count: row[5], failed: row[4])
        }
        let dayRows = try Row.fetchCursor(
            db,
            sql:
                "SELECT check_name, class, day, error_code != '', SUM(count) FROM outcome_day WHERE day >= ? GROUP BY 1, 2, 3, 4",
            arguments: [day - 29])
        while let row = try dayRows.next() {
            let name: String = row[0]
            let index = Int((row[2] as Int64) - (day - 29))
            guard (0..<30).contains(index) else { continue }
            checks[name, default: Check(name: name, endpointClass: row[1])].days[index].add(
                count: row[4], failed: row[3])
        }
        let span = RollupSpan(window: slo.window, now: now)
        let sloRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT check_name, error_code != '', SUM(count) FROM \(span.outcomeTable)
                WHERE \(span.column) >= ? GROUP BY 1, 2
                """, arguments: [span.since])
        while let row = try sloRows.next() {
            let name: String = row[0]
            checks[name]?.sloWindow.add(count: row[2], failed: row[1])
        }
        return UptimeHistory(checks: Array(checks.values), firstHour: hour - 23, firstDay: day - 29)
    }
}

extension CertificateExpiry {
    static func load(checks: [String], now: Date, in db: Database) throws -> CertificateExpiry {
        let statement = try db.cachedStatement(
            sql: """
                SELECT agent, started_at_ms, json_extract(json, '$.tls.earliest_expiry'),
                    coalesce(json_extract(json, '$.tls.leaf.sans[0]'), json_extract(json, '$.tls.leaf.subject')),
                    json_extract(json, '$.tls.version')
                FROM results WHERE check_name = ? ORDER BY started_at_ms DESC LIMIT \(latestResults)
                """)
        var entries: [Entry] = []
        for check in checks {
            var newestPerAgent: [String: (host: String, expiry: Date, version: String, at: Date)] = [:]
            for row in try Row.fetchAll(statement, arguments: [check]) {
                let agent: String = row[0]
                guard newestPerAgent[agent] == nil, let expiryText = row[2] as String?,
                    let expiry = Timestamp.parse(expiryText)
                else { continue }
                let host = Self.host(row[3] as String? ?? "")
                newestPerAgent[agent] = (
                    host, expiry, row[4] as String? ?? "", Date(timeIntervalSince1970: Double(row[1] as Int64) / 1000)
                )
            }
            let byHost = Dictionary(grouping: newestPerAgent.values, by: \.host)
            for (host, seen) in byHost {
                let earliest = seen.min { $0.expiry < $1.expiry }!
                entries.append(
                    Entry(
                        check: check, host: host, earliestExpiry: earliest.expiry, version: earliest.version,
                        agents: seen.count, observedAt: seen.map(\.at).max()!))
            }
        }
        return CertificateExpiry(
            entries: entries.sorted { ($0.earliestExpiry, $0.check) < ($1.earliestExpiry, $1.check) })
    }
}

extension CheckLatency {
    static func load(check: String, bucketing: Bucketing, profile: String?, now: Date, in db: Database) throws
        -> CheckLatency
    {
        let nowSeconds = Int64(now.timeIntervalSince1970)
        let firstBucket = nowSeconds.floorDivided(by: bucketing.seconds) - Int64(bucketing.count - 1)
        let start = firstBucket * bucketing.seconds
        let firstMinute = start / 60
        let lastMinute = nowSeconds.floorDivided(by: 60)
        // Outcomes: which regions and profiles ran the check, and how it went there.
        let (table, column, since) =
            bucketing.seconds == 60 ? ("outcome_minute", "minute", firstMinute) : ("outcome_hour", "hour", firstBucket)
        var byKey: [String: Slice] = [:]
        var profiles: Set<String> = []
        for row in try GRDB.Row.fetchAll(
            db,
            sql: """
                SELECT region, profile, class, error_code, SUM(count) FROM \(table)
                WHERE \(column) >= ? AND check_name = ? GROUP BY 1, 2, 3, 4
                """, arguments: [since, check])
        {
            profiles.insert(row[1])
            if let profile, row[1] != profile { continue }
            let key = "\(row[0] as String)|\(row[1] as String)|\(row[2] as String)"
            var entry = byKey[key] ?? Slice(region: row[0], profile: row[1], endpointClass: row[2])
            entry.total += row[4] as Int
            let code: String = row[3]
            if !code.isEmpty { entry.errors[code, default: 0] += row[4] as Int }
            byKey[key] = entry
        }
        var perBucket = [[HistogramAccumulator]](
            repeating: [HistogramAccumulator](repeating: HistogramAccumulator(), count: phases.count),
            count: bucketing.count)
        var perSlice: [String: HistogramAccumulator] = [:]
        let regions = Set(byKey.values.map(\.region)).sorted()
        let shownProfiles = Set(byKey.values.map(\.profile)).sorted()
        if !regions.isEmpty {
            // Phases as their index and the row key only for totals, and the histogram read in
            // place: a day of a check's minutes is a quarter of a million rows, and per-row strings
            // and copies would cost more than the database.
            let phaseCase = phases.enumerated().map { "WHEN '\($1.rawValue)' THEN \($0)" }.joined(separator: " ")
            let phaseList = phases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            let marks = { (n: Int) in Array(repeating: "?", count: n).joined(separator: ", ") }
            var arguments: StatementArguments = [firstMinute, lastMinute]
            arguments += StatementArguments(regions)
            arguments += StatementArguments(shownProfiles)
            arguments += [check]
            let cursor = try GRDB.Row.fetchCursor(
                db,
                sql: """
                    WITH RECURSIVE m(minute) AS (SELECT ? UNION ALL SELECT minute + 1 FROM m WHERE minute < ?)
                    SELECT minute, CASE phase \(phaseCase) END, histogram,
                        CASE WHEN phase = 'total' THEN region || '|' || profile || '|' || class END
                    FROM latency_minute
                    WHERE minute IN (SELECT minute FROM m) AND region IN (\(marks(regions.count)))
                    AND profile IN (\(marks(shownProfiles.count))) AND check_name = ? AND phase IN (\(phaseList))
                    """, arguments: arguments)
            while let row = try cursor.next() {
                let p: Int = row[1]
                let bucket = Int((row[0] as Int64) * 60 / bucketing.seconds - firstBucket)
                guard (0..<bucketing.count).contains(bucket) else { continue }
                let key: String? = p == 0 ? row[3] : nil
                try row.withUnsafeData(atIndex: 2) { data in
                    data?.withUnsafeBytes { bytes in
                        perBucket[bucket][p].add(serialized: bytes)
                        if let key, byKey[key] != nil {
                            perSlice[key, default: HistogramAccumulator()].add(serialized: bytes)
                        }
                    }
                }
            }
        }
        var series: [PhaseTimings.Phase: [(p50: Double?, p95: Double?)]] = [:]
        for (p, phase) in phases.enumerated() {
            series[phase] = perBucket.map { ($0[p].quantile(0.5), $0[p].quantile(0.95)) }
        }
        for (key, histogram) in perSlice {
            byKey[key]!.samples = Int(histogram.count)
            byKey[key]!.p50 = histogram.quantile(0.5)
            byKey[key]!.p95 = histogram.quantile(0.95)
            byKey[key]!.p99 = histogram.quantile(0.99)
        }
        let slices = byKey.values.sorted {
            ($0.region, $0.profile, $0.endpointClass) < ($1.region, $1.profile, $1.endpointClass)
        }
        return CheckLatency(
            bucketing: bucketing, start: start, series: series, slices: slices, profiles: profiles.sorted())
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
                ORDER BY started_at_ms DESC LIMIT ?
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

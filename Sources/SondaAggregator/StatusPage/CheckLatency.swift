import Foundation
import GRDB
import SondaCore

/// One check's latency over a window, from the minute rollups: p50 and p95 of every phase per
/// bucket (a minute over 1 h, an hour over 24 h), and per region × profile the quantiles of the
/// total with the outcome counts.
///
/// The minute rollups are keyed (minute, region, profile, check, …): the rows are read with one
/// index seek per minute × region × profile of this check (`minute IN (…) AND region IN (…)`), so a
/// check's page does not scan the whole fleet's minutes.
struct CheckLatency {
    struct Bucketing {
        var seconds: Int64
        var count: Int
        var window: String

        static func of(window: String) -> Bucketing? {
            switch window {
            case "1h": Bucketing(seconds: 60, count: 60, window: window)
            case "24h": Bucketing(seconds: 3600, count: 24, window: window)
            default: nil
            }
        }
    }

    /// One region × profile's outcomes and total-phase quantiles over the window.
    struct Slice: Hashable {
        var region: String, profile: String, endpointClass: String
        var total = 0
        var errors: [String: Int] = [:]
        var samples = 0
        var p50: Double?, p95: Double?, p99: Double?
        var failed: Int { errors.values.reduce(0, +) }
    }

    static let phases: [PhaseTimings.Phase] = [.total, .dns, .connect, .tls, .wait, .receive]

    var bucketing: Bucketing
    /// Start of the first bucket, seconds since 1970.
    var start: Int64
    /// phase → per bucket (p50, p95).
    var series: [PhaseTimings.Phase: [(p50: Double?, p95: Double?)]]
    var slices: [Slice]
    /// Every profile the check ran under in the window, for the filter links.
    var profiles: [String]

    var errors: [String: Int] { slices.reduce(into: [:]) { all, row in all.merge(row.errors, uniquingKeysWith: +) } }

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

    /// The bucket labels: "14:05" per minute, "14:00" per hour (UTC).
    var labels: [String] {
        (0..<bucketing.count).map { i in
            StatusFormat.clock(Date(timeIntervalSince1970: Double(start + Int64(i) * bucketing.seconds)))
        }
    }
}

import Foundation
import GRDB
import SondaCore

/// Results' contribution to the rollups, built in memory and merged into the stored rows (see
/// `PendingRollups` for when): latency histograms of successful results per phase, and
/// outcome counts per error code ("" for ok). Per minute with every dimension (short windows,
/// per-check detail); per hour and per day without the check for budget cells (and with it for
/// uptime), so long windows read few rows.
struct MinuteRollup {
    /// One (region, profile, check, class) series: per minute, a histogram per phase (successful
    /// results only) and counts per error code. Keeping the string dimensions out of the inner
    /// keys makes `add` one string-keyed lookup per result; hours and days are summed at `save`.
    struct Series {
        var latency: [Int64: [LatencyHistogram]] = [:]
        var outcomes: [Int64: [String: Int]] = [:]

        mutating func merge(_ other: Series) {
            for (minute, histograms) in other.latency {
                latency[minute, default: Self.emptyPhases].merge(histograms)
            }
            for (minute, counts) in other.outcomes {
                outcomes[minute, default: [:]].merge(counts, uniquingKeysWith: +)
            }
        }

        static let emptyPhases = [LatencyHistogram](repeating: LatencyHistogram(), count: PhaseTimings.Phase.allCases.count)
    }
    struct HourLatencyKey: Hashable {
        var hour: Int64
        var region: String, profile: String, endpointClass: String
        var phase: PhaseTimings.Phase
    }
    struct HourOutcomeKey: Hashable {
        var hour: Int64
        var key: RollupKey
        var errorCode: String
    }

    var series: [RollupKey: Series] = [:]

    var isEmpty: Bool { series.isEmpty }

    mutating func add(_ result: ProbeResult, key: RollupKey) {
        let minute = Int64((result.startedAt.timeIntervalSince1970 / 60).rounded(.down))
        series[key, default: Series()].add(result, minute: minute)
    }

    /// Adds another rollup's counts and histograms to this one.
    mutating func merge(_ other: MinuteRollup) {
        if isEmpty {
            self = other
            return
        }
        for (key, s) in other.series { series[key, default: Series()].merge(s) }
    }

    func save(in db: Database) throws {
        var latency: [(StatementArguments, LatencyHistogram)] = []
        var outcomes: [(StatementArguments, Int)] = []
        var hourLatency: [HourLatencyKey: LatencyHistogram] = [:]
        var dayLatency: [HourLatencyKey: LatencyHistogram] = [:]
        var hourOutcomes: [HourOutcomeKey: Int] = [:]
        var dayOutcomes: [HourOutcomeKey: Int] = [:]
        for (k, s) in series {
            for (minute, histograms) in s.latency {
                let (hour, day) = (minute.floorDivided(by: 60), minute.floorDivided(by: 1440))
                for (phase, histogram) in zip(PhaseTimings.Phase.allCases, histograms) where histogram.count > 0 {
                    latency.append(([minute, k.region, k.profile, k.check, k.endpointClass, phase.rawValue], histogram))
                    let hourKey = HourLatencyKey(
                        hour: hour, region: k.region, profile: k.profile, endpointClass: k.endpointClass, phase: phase)
                    hourLatency[hourKey, default: LatencyHistogram()].merge(histogram)
                    var dayKey = hourKey
                    dayKey.hour = day
                    dayLatency[dayKey, default: LatencyHistogram()].merge(histogram)
                }
            }
            for (minute, counts) in s.outcomes {
                let (hour, day) = (minute.floorDivided(by: 60), minute.floorDivided(by: 1440))
                for (code, n) in counts {
                    outcomes.append(([minute, k.region, k.profile, k.check, k.endpointClass, code], n))
                    hourOutcomes[HourOutcomeKey(hour: hour, key: k, errorCode: code), default: 0] += n
                    dayOutcomes[HourOutcomeKey(hour: day, key: k, errorCode: code), default: 0] += n
                }
            }
        }
        try Self.merge(
            latency, table: "latency_minute", columns: ["minute", "region", "profile", "check_name", "class", "phase"],
            in: db)
        try Self.merge(
            hourLatency.map { k, h in ([k.hour, k.region, k.profile, k.endpointClass, k.phase.rawValue], h) },
            table: "latency_hour", columns: ["hour", "region", "profile", "class", "phase"], in: db)
        try Self.merge(
            dayLatency.map { k, h in ([k.hour, k.region, k.profile, k.endpointClass, k.phase.rawValue], h) },
            table: "latency_day", columns: ["day", "region", "profile", "class", "phase"], in: db)
        try Self.add(
            outcomes, table: "outcome_minute", columns: ["minute", "region", "profile", "check_name", "class", "error_code"],
            in: db)
        try Self.add(
            hourOutcomes.map { k, n in
                ([k.hour, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.errorCode], n)
            }, table: "outcome_hour", columns: ["hour", "region", "profile", "check_name", "class", "error_code"], in: db)
        try Self.add(
            dayOutcomes.map { k, n in
                ([k.hour, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.errorCode], n)
            }, table: "outcome_day", columns: ["day", "region", "profile", "check_name", "class", "error_code"], in: db)
    }

    /// Merges histograms into the rows with these key values.
    static func merge(
        _ rows: [(StatementArguments, LatencyHistogram)], table: String, columns: [String], in db: Database
    ) throws {
        let select = try db.cachedStatement(
            sql: "SELECT histogram FROM \(table) WHERE " + columns.map { "\($0) = ?" }.joined(separator: " AND "))
        let upsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", ")), count, histogram) VALUES ("
                + Array(repeating: "?", count: columns.count + 2).joined(separator: ", ") + ")")
        for (arguments, added) in rows {
            var histogram = added
            if let stored = try Data.fetchOne(select, arguments: arguments),
                let existing = LatencyHistogram(serialized: stored)
            {
                histogram.merge(existing)
            }
            try upsert.execute(arguments: arguments + [Int64(histogram.count), Data(histogram.serialized)])
        }
    }

    /// Adds counts to the rows with these key values.
    static func add(_ rows: [(StatementArguments, Int)], table: String, columns: [String], in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO \(table) (\(columns.joined(separator: ", ")), count) VALUES ("
                + Array(repeating: "?", count: columns.count + 1).joined(separator: ", ")
                + ") ON CONFLICT DO UPDATE SET count = count + excluded.count")
        for (arguments, n) in rows { try statement.execute(arguments: arguments + [n]) }
    }
}

extension MinuteRollup.Series {
    mutating func add(_ result: ProbeResult, minute: Int64) {
        outcomes[minute, default: [:]][result.error?.code.rawValue ?? "", default: 0] += 1
        guard result.ok else { return }
        let phases = result.phases
        latency[minute, default: Self.emptyPhases].withUnsafeMutableBufferPointer { histograms in
            for (i, phase) in PhaseTimings.Phase.allCases.enumerated() {
                if let ms = phases[phase] { histograms[i].record(milliseconds: ms) }
            }
        }
    }
}

extension [LatencyHistogram] {
    /// Merges phase by phase (both arrays hold one histogram per phase).
    mutating func merge(_ other: [LatencyHistogram]) {
        for i in indices { self[i].merge(other[i]) }
    }
}

extension Int64 {
    func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

import Foundation
import GRDB
import SondaCore

/// A batch's contribution to the rollups, built in memory and merged into the stored rows in the
/// same transaction as the raw results: latency histograms of successful results per phase, and
/// outcome counts per error code ("" for ok). Per minute with every dimension (short windows,
/// per-check detail); per hour and per day without the check for budget cells (and with it for
/// uptime), so long windows read few rows.
struct MinuteRollup {
    struct LatencyKey: Hashable {
        var minute: Int64
        var key: RollupKey
        var phase: PhaseTimings.Phase
    }
    struct OutcomeKey: Hashable {
        var minute: Int64
        var key: RollupKey
        var errorCode: String
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

    var latency: [LatencyKey: LatencyHistogram] = [:]
    var outcomes: [OutcomeKey: Int] = [:]
    var hourLatency: [HourLatencyKey: LatencyHistogram] = [:]
    var hourOutcomes: [HourOutcomeKey: Int] = [:]
    /// Keyed like the hour rollups, with the day number in `hour`.
    var dayLatency: [HourLatencyKey: LatencyHistogram] = [:]
    var dayOutcomes: [HourOutcomeKey: Int] = [:]

    mutating func add(_ result: ProbeResult, key: RollupKey) {
        let minute = Int64((result.startedAt.timeIntervalSince1970 / 60).rounded(.down))
        let hour = minute.floorDivided(by: 60)
        let day = minute.floorDivided(by: 1440)
        let code = result.error?.code.rawValue ?? ""
        outcomes[OutcomeKey(minute: minute, key: key, errorCode: code), default: 0] += 1
        hourOutcomes[HourOutcomeKey(hour: hour, key: key, errorCode: code), default: 0] += 1
        dayOutcomes[HourOutcomeKey(hour: day, key: key, errorCode: code), default: 0] += 1
        guard result.ok else { return }
        for phase in PhaseTimings.Phase.allCases {
            guard let ms = result.phases[phase] else { continue }
            latency[LatencyKey(minute: minute, key: key, phase: phase), default: LatencyHistogram()]
                .record(milliseconds: ms)
            let hourKey = HourLatencyKey(
                hour: hour, region: key.region, profile: key.profile, endpointClass: key.endpointClass, phase: phase)
            hourLatency[hourKey, default: LatencyHistogram()].record(milliseconds: ms)
            var dayKey = hourKey
            dayKey.hour = day
            dayLatency[dayKey, default: LatencyHistogram()].record(milliseconds: ms)
        }
    }

    func save(in db: Database) throws {
        try Self.merge(
            latency.map { k, h in
                ([k.minute, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.phase.rawValue], h)
            }, table: "latency_minute", columns: ["minute", "region", "profile", "check_name", "class", "phase"], in: db)
        try Self.merge(
            hourLatency.map { k, h in ([k.hour, k.region, k.profile, k.endpointClass, k.phase.rawValue], h) },
            table: "latency_hour", columns: ["hour", "region", "profile", "class", "phase"], in: db)
        try Self.merge(
            dayLatency.map { k, h in ([k.hour, k.region, k.profile, k.endpointClass, k.phase.rawValue], h) },
            table: "latency_day", columns: ["day", "region", "profile", "class", "phase"], in: db)
        try Self.add(
            dayOutcomes.map { k, n in
                ([k.hour, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.errorCode], n)
            }, table: "outcome_day", columns: ["day", "region", "profile", "check_name", "class", "error_code"], in: db)
        try Self.add(
            outcomes.map { k, n in
                ([k.minute, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.errorCode], n)
            }, table: "outcome_minute", columns: ["minute", "region", "profile", "check_name", "class", "error_code"],
            in: db)
        try Self.add(
            hourOutcomes.map { k, n in
                ([k.hour, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.errorCode], n)
            }, table: "outcome_hour", columns: ["hour", "region", "profile", "check_name", "class", "error_code"], in: db)
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

extension Int64 {
    func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

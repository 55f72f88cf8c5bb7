import Foundation
import GRDB
import SondaCore

/// A batch's contribution to the per-minute rollups, built in memory and merged into the stored
/// rows in the same transaction as the raw results: latency histograms of successful results per
/// phase, and outcome counts per error code ("" for ok).
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

    var latency: [LatencyKey: LatencyHistogram] = [:]
    var outcomes: [OutcomeKey: Int] = [:]

    mutating func add(_ result: ProbeResult, key: RollupKey) {
        let minute = Int64((result.startedAt.timeIntervalSince1970 / 60).rounded(.down))
        outcomes[OutcomeKey(minute: minute, key: key, errorCode: result.error?.code.rawValue ?? ""), default: 0] += 1
        guard result.ok else { return }
        for phase in PhaseTimings.Phase.allCases {
            guard let ms = result.phases[phase] else { continue }
            latency[LatencyKey(minute: minute, key: key, phase: phase), default: LatencyHistogram()]
                .record(milliseconds: ms)
        }
    }

    func save(in db: Database) throws {
        let select = try db.cachedStatement(
            sql: """
                SELECT histogram FROM latency_minute
                WHERE minute = ? AND region = ? AND profile = ? AND check_name = ? AND class = ? AND phase = ?
                """)
        let upsert = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO latency_minute
                (minute, region, profile, check_name, class, phase, count, histogram) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (k, added) in latency {
            let arguments: StatementArguments = [
                k.minute, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.phase.rawValue,
            ]
            var histogram = added
            if let stored = try Data.fetchOne(select, arguments: arguments),
                let existing = LatencyHistogram(serialized: stored)
            {
                histogram.merge(existing)
            }
            try upsert.execute(arguments: arguments + [Int64(histogram.count), Data(histogram.serialized)])
        }
        let count = try db.cachedStatement(
            sql: """
                INSERT INTO outcome_minute (minute, region, profile, check_name, class, error_code, count)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET count = count + excluded.count
                """)
        for (k, n) in outcomes {
            try count.execute(arguments: [
                k.minute, k.key.region, k.key.profile, k.key.check, k.key.endpointClass, k.errorCode, n,
            ])
        }
    }
}

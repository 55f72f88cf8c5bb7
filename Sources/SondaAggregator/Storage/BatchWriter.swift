import Foundation
import GRDB
import SondaCore

/// What one committed batch did.
public struct BatchReceipt: Sendable, Hashable, Codable {
    public var accepted: Int
    public var duplicates: Int
}

extension ResultStore {
    /// Writes a batch in one transaction: new results (a known id is ignored), their minute
    /// rollups, and the agent's heartbeat. Returns only after the commit.
    /// `auditDetail`, when given, is appended to the audit chain in the same transaction.
    public func write(
        _ batch: ResultBatch, region agentRegion: String, now: Date = Date(), auditDetail: String? = nil
    ) async throws -> BatchReceipt {
        return try await pool.write { db in
            var writer = ResultJSONWriter()
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO results
                    (id, agent, check_name, step, region, profile, class, started_at_ms, ok, error_code, total_ms, json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var rollup = MinuteRollup()
            var accepted = 0
            for result in batch.results {
                let key = RollupKey(result, agentRegion: agentRegion)
                let json = String(decoding: writer.line(result).dropLast(), as: UTF8.self)
                try insert.execute(arguments: [
                    result.id, batch.agent, key.check, result.step, key.region, key.profile, key.endpointClass,
                    Int64(result.startedAt.timeIntervalSince1970 * 1000), result.ok, result.error?.code.rawValue,
                    result.phases.total, json,
                ])
                guard db.changesCount == 1 else { continue }
                accepted += 1
                rollup.add(result, key: key)
            }
            try rollup.save(in: db)
            try db.execute(
                sql: """
                    INSERT INTO agents (id, region, last_seen_ms, version, config_hash, spool_depth, dropped_total,
                                        batches, results)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
                    ON CONFLICT(id) DO UPDATE SET region = excluded.region, last_seen_ms = excluded.last_seen_ms,
                        version = excluded.version, config_hash = excluded.config_hash,
                        spool_depth = excluded.spool_depth, dropped_total = dropped_total + excluded.dropped_total,
                        batches = batches + 1, results = results + excluded.results
                    """,
                arguments: [
                    batch.agent, agentRegion, Int64(now.timeIntervalSince1970 * 1000), batch.heartbeat.version,
                    batch.heartbeat.configHash, batch.heartbeat.spoolDepth, batch.heartbeat.dropped, accepted,
                ])
            if let auditDetail {
                try AuditLog.append(kind: "batch", detail: auditDetail + " accepted=\(accepted)", at: now, in: db)
            }
            return BatchReceipt(accepted: accepted, duplicates: batch.results.count - accepted)
        }
    }
}

/// A rollup row's dimensions; absent labels are stored as "".
struct RollupKey: Hashable {
    var region: String
    var profile: String
    var check: String
    var endpointClass: String

    init(_ result: ProbeResult, agentRegion: String) {
        region = result.region ?? agentRegion
        profile = result.profile ?? ""
        check = result.check ?? ""
        endpointClass = result.endpointClass ?? ""
    }
}

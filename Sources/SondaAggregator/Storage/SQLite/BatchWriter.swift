import Foundation
import GRDB
import SondaCore
import Synchronization

extension SQLiteStore {
    /// Writes a batch in one transaction: new results (a known id is ignored) and the agent's
    /// heartbeat; the results' rollups are merged now or soon after (`PendingRollups`).
    /// Returns only after the commit.
    /// `auditDetail`, when given, is appended to the audit chain in the same transaction.
    /// `rawResults`, when given, is each result's JSON as received, stored as is.
    /// With `rememberUntil`, a batch id already remembered is a replay and writes nothing.
    @discardableResult
    public func write(
        _ batch: ResultBatch, rawResults: RawResults? = nil, region agentRegion: String, now: Date = Date(),
        auditDetail: String? = nil, rememberUntil: Date? = nil
    ) async throws -> BatchReceipt {
        pending.waitingWriters.add(1, ordering: .releasing)
        let entered = WriterEntered()
        do {
            return try await write(
                batch, rawResults: rawResults, region: agentRegion, now: now, auditDetail: auditDetail,
                rememberUntil: rememberUntil, entered: entered)
        } catch {
            // Refused before the transaction began (a closed pool, a cancelled task): this batch
            // waits no longer, or every later rollup would wait for the one-second rule.
            if !entered.flag.load(ordering: .acquiring) { pending.waitingWriters.subtract(1, ordering: .releasing) }
            throw error
        }
    }

    private func write(
        _ batch: ResultBatch, rawResults: RawResults?, region agentRegion: String, now: Date, auditDetail: String?,
        rememberUntil: Date?, entered: WriterEntered
    ) async throws -> BatchReceipt {
        try await pool.write { [pending] db in
            entered.flag.store(true, ordering: .releasing)
            pending.waitingWriters.subtract(1, ordering: .releasing)
            if let rememberUntil, try !SQLiteBatchIDs.remember(batch, until: rememberUntil, in: db) {
                // Counts nothing again, but is a sign of life: an agent whose 200s are lost (an
                // answer slower than its timeout) sends the same batch until one arrives.
                try db.execute(
                    sql: "UPDATE agents SET last_seen_ms = MAX(last_seen_ms, ?) WHERE id = ?",
                    arguments: [Int64(now.timeIntervalSince1970 * 1000), batch.agent])
                return BatchReceipt.replay(of: batch)
            }
            var writer = ResultJSONWriter()
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO results
                    (id, agent, check_name, step, region, profile, class, started_at_ms, ok, error_code, total_ms, json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var rollup = MinuteRollup()
            var accepted = 0
            var lastRowID: Int64 = 0
            for (index, result) in batch.results.enumerated() {
                let key = RollupKey(result, agentRegion: agentRegion)
                let json = rawResults?[index] ?? String(decoding: writer.line(result).dropLast(), as: UTF8.self)
                try insert.execute(arguments: [
                    result.id, batch.agent, key.check, result.step, key.region, key.profile, key.endpointClass,
                    Int64(result.startedAt.timeIntervalSince1970 * 1000), result.ok, result.error?.code.rawValue,
                    result.phases.total, json,
                ])
                guard db.changesCount == 1 else { continue }
                accepted += 1
                lastRowID = db.lastInsertedRowID
                rollup.add(result, key: key)
            }
            if pending.isDue {
                try pending.flush(adding: rollup, throughRowID: lastRowID, in: db)
            } else if accepted > 0 {
                db.afterNextTransaction(onCommit: { [rollup, lastRowID] _ in
                    pending.add(rollup, throughRowID: lastRowID)
                })
            }
            try db.execute(
                sql: """
                    INSERT INTO agents (id, region, last_seen_ms, version, config_hash, spool_depth, dropped_total,
                                        quarantined_total, batches, results)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
                    ON CONFLICT(id) DO UPDATE SET region = excluded.region, last_seen_ms = excluded.last_seen_ms,
                        version = excluded.version, config_hash = excluded.config_hash,
                        spool_depth = excluded.spool_depth, dropped_total = dropped_total + excluded.dropped_total,
                        quarantined_total = quarantined_total + excluded.quarantined_total,
                        batches = batches + 1, results = results + excluded.results
                    """,
                arguments: [
                    batch.agent, agentRegion, Int64(now.timeIntervalSince1970 * 1000), batch.heartbeat.version,
                    batch.heartbeat.configHash, batch.heartbeat.spoolDepth, batch.heartbeat.dropped,
                    batch.heartbeat.quarantined ?? 0, accepted,
                ])
            if let auditDetail {
                try SQLiteAudit.append(kind: "batch", detail: auditDetail + " accepted=\(accepted)", at: now, in: db)
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

    /// `agentRegion` is the sending agent's configured region: a result's own `region` is not
    /// trusted (ingest refuses one that differs).
    init(_ result: borrowing ProbeResult, agentRegion: String) {
        region = agentRegion
        profile = result.profile ?? ""
        check = result.check ?? ""
        endpointClass = result.endpointClass ?? ""
    }

    init(region: String, profile: String, check: String, endpointClass: String) {
        (self.region, self.profile, self.check, self.endpointClass) = (region, profile, check, endpointClass)
    }
}

/// Whether a batch's transaction closure has started (and so stopped counting as waiting).
private final class WriterEntered: Sendable {
    let flag = Atomic<Bool>(false)
}

import Foundation
import NIOCore
import PostgresNIO
import SondaCore

extension PostgresStore {
    /// One transaction per batch: the results through `UNNEST` arrays (one parameter per column,
    /// so a batch of any size is one statement; a known id is skipped), the rollups of the rows
    /// actually inserted, the agent's heartbeat and the audit entry (queued for the chain, see
    /// `chainAudit`). A batch that another replica stored first inserts nothing and counts nothing.
    /// With `rememberUntil`, the batch id goes in first: when any replica has already remembered
    /// it, the batch is a replay and writes nothing.
    @discardableResult
    public func write(
        _ batch: ResultBatch, rawResults: [String]? = nil, region agentRegion: String, now: Date = Date(),
        auditDetail: String? = nil, rememberUntil: Date? = nil
    ) async throws -> BatchReceipt {
        let rows = ResultColumns(batch.results, agent: batch.agent, agentRegion: agentRegion, rawResults: rawResults)
        return try await withConnection { connection in
            try await self.ensurePartitions(days: rows.days, on: connection)
            let logger = self.logger
            return try await connection.withTransaction(logger: logger) { connection in
                if let rememberUntil,
                    try await !Self.remember(batch, until: rememberUntil, on: connection, logger: logger)
                {
                    // Counts nothing again, but is a sign of life (see the SQLite store's `write`).
                    let seen = Int64(now.timeIntervalSince1970 * 1000)
                    try await connection.query(
                        "UPDATE agents SET last_seen_ms = GREATEST(last_seen_ms, \(seen)) WHERE id = \(batch.agent)",
                        logger: logger)
                    return BatchReceipt.replay(of: batch)
                }
                let inserted = try await Self.insertResults(rows, on: connection, logger: logger)
                // A result id twice in one batch is stored once, and counted once.
                var uncounted = inserted
                var rollup = MinuteRollup()
                for result in batch.results where uncounted.remove(result.id) != nil {
                    rollup.add(result, key: RollupKey(result, agentRegion: agentRegion))
                }
                if !rollup.isEmpty {
                    let rows = rollup.rows(phasesTogether: true, minutesOnly: true)
                    try await Self.save(rows, pending: true, on: connection, logger: logger)
                }
                let heartbeat = batch.heartbeat
                try await connection.query(
                    """
                    INSERT INTO agents AS a (id, region, last_seen_ms, version, config_hash, spool_depth, dropped_total,
                                             quarantined_total, batches, results)
                    VALUES (\(batch.agent), \(agentRegion), \(Int64(now.timeIntervalSince1970 * 1000)), \(heartbeat.version),
                            \(heartbeat.configHash), \(heartbeat.spoolDepth), \(heartbeat.dropped),
                            \(heartbeat.quarantined ?? 0), 1, \(inserted.count))
                    ON CONFLICT (id) DO UPDATE SET region = excluded.region, last_seen_ms = excluded.last_seen_ms,
                        version = excluded.version, config_hash = excluded.config_hash,
                        spool_depth = excluded.spool_depth, dropped_total = a.dropped_total + excluded.dropped_total,
                        quarantined_total = a.quarantined_total + excluded.quarantined_total,
                        batches = a.batches + 1, results = a.results + excluded.results
                    """, logger: logger)
                if let auditDetail {
                    let detail = auditDetail + " accepted=\(inserted.count)"
                    try await connection.query(
                        """
                        INSERT INTO audit_queue (at_ms, kind, detail)
                        VALUES (\(Int64(now.timeIntervalSince1970 * 1000)), 'batch', \(detail))
                        """, logger: logger)
                }
                return BatchReceipt(accepted: inserted.count, duplicates: batch.results.count - inserted.count)
            }
        }
    }

    /// Remembers the batch's id until `until`; false when it was already remembered (a replay),
    /// whose memory is then kept until the later of the two times. A replica inserting the same id
    /// at the same time waits for this transaction and then finds it.
    static func remember(_ batch: ResultBatch, until: Date, on connection: PostgresConnection, logger: Logger)
        async throws -> Bool
    {
        let ms = Int64(until.timeIntervalSince1970 * 1000)
        let rows = try await connection.rows(
            """
            INSERT INTO batch_ids AS b (agent, batch_id, until_ms) VALUES (\(batch.agent), \(batch.batchID), \(ms))
            ON CONFLICT (agent, batch_id) DO UPDATE SET until_ms = GREATEST(b.until_ms, excluded.until_ms)
            RETURNING (xmax = 0)
            """, logger: logger)
        var inserted = false
        for fresh in try rows.decode(Bool.self) { inserted = fresh }
        return inserted
    }

    /// Inserts a batch's results with one `UNNEST` statement, skipping ids already stored; returns
    /// the ids inserted. The caller holds the transaction and has created the days' partitions
    /// (`ensurePartitions`). The ingest baseline (Benchmarks/PostgresIngestBaseline) runs this
    /// same statement, so the two stay comparable.
    package static func insertResults(_ rows: ResultColumns, on connection: PostgresConnection, logger: Logger)
        async throws -> Set<String>
    {
        var inserted: Set<String> = []
        guard !rows.ids.isEmpty else { return inserted }
        let ids = try await connection.rows(
            """
            INSERT INTO results (id, started_at_ms, agent, check_name, step, region, profile, class, ok,
                                 error_code, total_ms, json)
            SELECT id, started_at_ms, agent, check_name, NULLIF(step, ''), region, profile, class, ok,
                   NULLIF(error_code, ''), total_ms, json
            FROM UNNEST(\(rows.ids)::text[], \(rows.startedAt)::bigint[], \(rows.agents)::text[],
                        \(rows.checks)::text[], \(rows.steps)::text[], \(rows.regions)::text[],
                        \(rows.profiles)::text[], \(rows.classes)::text[], \(rows.ok)::boolean[],
                        \(rows.errorCodes)::text[], \(rows.totals)::float8[], \(rows.json)::text[])
                 AS r(id, started_at_ms, agent, check_name, step, region, profile, class, ok, error_code,
                      total_ms, json)
            ON CONFLICT DO NOTHING
            RETURNING id
            """, logger: logger)
        for id in try ids.decode(String.self) { inserted.insert(id) }
        return inserted
    }

    /// Appends the latency and outcome rows: no row is ever updated, so concurrent batches never
    /// wait for each other's commit (`compactRollups` merges them later). `pending` rows (minutes
    /// only) go to `latency_pending` and `outcome_pending`, for `rollUpPending`.
    static func save(
        _ rows: MinuteRollup.Rows, pending: Bool = false, on connection: PostgresConnection, logger: Logger
    )
        async throws
    {
        for span in pending ? [.minute] : MinuteRollup.Span.allCases {
            let latencyTable = pending ? RollupTables.latencyPending : span.latencyTable
            let outcomeTable = pending ? RollupTables.outcomePending : span.outcomeTable
            if let latency = rows.phaseLatency[span], !latency.isEmpty {
                let total = PhaseTimings.Phase.allCases.firstIndex(of: .total)!
                var binds = PostgresBindings()
                binds.append(latency.map(\.bucket))
                binds.append(latency.map(\.region))
                binds.append(latency.map(\.profile))
                binds.append(latency.map { $0.check ?? "" })
                binds.append(latency.map(\.endpointClass))
                binds.append(latency.map { Int64($0.value[total].count) })
                for phase in PhaseHistograms.phases.indices {
                    binds.append(latency.map { ByteBuffer(bytes: $0.value[phase].serialized) })
                }
                let check = span == .minute ? "check_name, " : ""
                let arrays = (7..<(7 + PhaseHistograms.phases.count)).map { "$\($0)::bytea[]" }.joined(separator: ", ")
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO \(latencyTable) (\(span.column), region, profile, \(check)class, count, \(PhaseHistograms.columns))
                            SELECT bucket, region, profile, \(check)class, count, \(PhaseHistograms.columns)
                            FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], \(arrays))
                                 AS u(bucket, region, profile, check_name, class, count, \(PhaseHistograms.columns))
                            """, binds: binds), logger: logger)
            }
            if let outcomes = rows.outcomes[span], !outcomes.isEmpty {
                var binds = PostgresBindings()
                binds.append(outcomes.map(\.bucket))
                binds.append(outcomes.map(\.region))
                binds.append(outcomes.map(\.profile))
                binds.append(outcomes.map { $0.check ?? "" })
                binds.append(outcomes.map(\.endpointClass))
                binds.append(outcomes.map(\.label))
                binds.append(outcomes.map { Int64($0.value) })
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO \(outcomeTable) (\(span.column), region, profile, check_name, class, error_code, count)
                            SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                                                 $6::text[], $7::bigint[])
                            """, binds: binds), logger: logger)
            }
        }
    }
}

/// A batch's results as one array per column, for `UNNEST`.
package struct ResultColumns: Sendable {
    var ids: [String] = [], startedAt: [Int64] = [], agents: [String] = [], checks: [String] = []
    var steps: [String] = [], regions: [String] = [], profiles: [String] = [], classes: [String] = []
    var ok: [Bool] = [], errorCodes: [String] = [], totals: [Double] = [], json: [String] = []

    /// `rawResults`, when given, is each result's JSON as received; otherwise it is encoded.
    package init(_ results: [ProbeResult], agent: String, agentRegion: String, rawResults: [String]? = nil) {
        var writer = ResultJSONWriter()
        for (index, result) in results.enumerated() {
            let key = RollupKey(result, agentRegion: agentRegion)
            append(
                id: result.id, startedAt: Int64(result.startedAt.timeIntervalSince1970 * 1000), agent: agent, key: key,
                step: result.step ?? "", ok: result.ok, errorCode: result.error?.code.rawValue ?? "",
                totalMilliseconds: result.phases.total,
                json: rawResults?[index] ?? String(decoding: writer.line(result).dropLast(), as: UTF8.self))
        }
    }

    /// The days (since 1970) the results started on: the partitions they go to.
    package var days: Set<Int64> { Set(startedAt.map { $0.floorDivided(by: 86_400_000) }) }

    package var count: Int { ids.count }

    mutating func append(
        id: String, startedAt ms: Int64, agent: String, key: RollupKey, step: String, ok passed: Bool,
        errorCode: String, totalMilliseconds: Double, json line: String
    ) {
        ids.append(id)
        startedAt.append(ms)
        agents.append(agent)
        checks.append(key.check)
        steps.append(step)
        regions.append(key.region)
        profiles.append(key.profile)
        classes.append(key.endpointClass)
        ok.append(passed)
        errorCodes.append(errorCode)
        totals.append(totalMilliseconds)
        json.append(line)
    }
}

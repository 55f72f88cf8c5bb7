import Foundation
import NIOCore
import PostgresNIO
import SondaCore

extension PostgresStore {
    /// One statement per batch (`writeAtOnce`), which is its own transaction: the batch id, the
    /// results (through `UNNEST` arrays: one parameter per column, so a batch of any size is one
    /// statement; a known id is skipped), the minute rollups, the agent's heartbeat and the audit
    /// entry (queued for the chain, see `chainAudit`). With `rememberUntil`, the batch id goes in
    /// first: when any replica has already remembered it, the batch is a replay and writes only the
    /// agent's last sign of life. When some of the results were stored already, that statement
    /// fails and writes nothing, and a transaction of two statements stores the rest and counts
    /// only the rows it inserted.
    @discardableResult
    public func write(
        _ batch: ResultBatch, rawResults: RawResults? = nil, region agentRegion: String, now: Date = Date(),
        auditDetail: String? = nil, rememberUntil: Date? = nil
    ) async throws -> BatchReceipt {
        let rows = ResultColumns(batch.results, agent: batch.agent, agentRegion: agentRegion, rawResults: rawResults)
        let memory = rememberUntil.map { BatchMemory(agent: batch.agent, batchID: batch.batchID, until: $0) }
        let seen = Int64(now.timeIntervalSince1970 * 1000)
        let everyResult = MinuteRollup(batch.results, agentRegion: agentRegion)
        return try await withConnection { connection in
            try await self.ensurePartitions(days: rows.days, on: connection)
            let logger = self.logger
            let atOnce = Self.writeAtOnce(
                rows, remembering: memory, rollup: everyResult, batch: batch, region: agentRegion, seen: seen,
                auditDetail: auditDetail)
            do {
                for (fresh, _) in try await connection.rows(atOnce, logger: logger).decode((Bool, Int64).self) {
                    return fresh ? BatchReceipt(accepted: rows.count, duplicates: 0) : BatchReceipt.replay(of: batch)
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == Self.partlyStored {}
            return try await connection.withTransaction(logger: logger) { connection in
                let inserted = try await Self.insertResults(rows, remembering: memory, on: connection, logger: logger)
                var rollup = MinuteRollup()
                switch inserted {
                case .replay:
                    // Counts nothing again, but is a sign of life (see the SQLite store's `write`).
                    try await connection.query(
                        "UPDATE agents SET last_seen_ms = GREATEST(last_seen_ms, \(seen)) WHERE id = \(batch.agent)",
                        logger: logger)
                    return BatchReceipt.replay(of: batch)
                case .all:
                    rollup = everyResult
                case .only(var uncounted):
                    // A result id twice in one batch is stored once, and counted once.
                    for result in batch.results where uncounted.remove(result.id) != nil {
                        rollup.add(result, key: RollupKey(result, agentRegion: agentRegion))
                    }
                }
                let accepted = inserted.count(of: rows.count)
                try await connection.query(
                    Self.batchRecord(
                        rollup, batch: batch, region: agentRegion, seen: seen, accepted: accepted,
                        auditDetail: auditDetail),
                    logger: logger)
                return BatchReceipt(accepted: accepted, duplicates: batch.results.count - accepted)
            }
        }
    }

    /// A whole batch in one statement, so in one round trip and its own transaction (BEGIN, two
    /// statements and COMMIT were four, and an agent reporting as it probes sends batches of a few
    /// results, whose cost is mostly those trips). Answers whether the batch was new and how many
    /// results it stored. The `insertResults` clauses, then every other write of `batchRecord`,
    /// each only when the batch is not a replay, and the replay's sign of life otherwise. When a
    /// new batch stored fewer results than it sent (some were stored already, or came twice),
    /// `sonda_all_stored` fails the statement with `partlyStored`, so nothing of it stays.
    package static func writeAtOnce(
        _ rows: ResultColumns, remembering memory: BatchMemory?, rollup: MinuteRollup, batch: ResultBatch,
        region: String, seen: Int64, auditDetail: String?
    ) -> PostgresQuery {
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 4096, interpolationCount: 64)
        appendResultsInsert(rows, remembering: memory, to: &sql)
        sql.appendLiteral(", ")
        appendBatchRecord(
            rollup, batch: batch, region: region, seen: seen, accepted: rows.count, auditDetail: auditDetail,
            onlyIf: "(SELECT fresh FROM admitted)", to: &sql)
        sql.appendLiteral(", seen AS (UPDATE agents SET last_seen_ms = GREATEST(last_seen_ms, ")
        sql.appendInterpolation(seen)
        sql.appendLiteral(") WHERE id = ")
        sql.appendInterpolation(batch.agent)
        sql.appendLiteral(" AND NOT (SELECT fresh FROM admitted)) SELECT fresh, sonda_all_stored(fresh, stored, ")
        sql.appendInterpolation(Int64(rows.count))
        sql.appendLiteral(") FROM (SELECT (SELECT fresh FROM admitted) AS fresh, count(*) AS stored FROM inserted) AS c")
        return PostgresQuery(stringInterpolation: sql)
    }

    /// The SQLSTATE of `sonda_all_stored`'s error (migration v11).
    static let partlyStored = "SN001"

    /// One statement for the rest of a batch after `insertResults`, in its transaction.
    static func batchRecord(
        _ rollup: MinuteRollup, batch: ResultBatch, region: String, seen: Int64, accepted: Int, auditDetail: String?
    ) -> PostgresQuery {
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 2048, interpolationCount: 40)
        sql.appendLiteral("WITH ")
        appendBatchRecord(
            rollup, batch: batch, region: region, seen: seen, accepted: accepted, auditDetail: auditDetail,
            onlyIf: "true", to: &sql)
        sql.appendLiteral(" SELECT 1")
        return PostgresQuery(stringInterpolation: sql)
    }

    /// The rest of a batch as data-modifying `WITH` clauses (which run whatever the main statement
    /// does), each writing only when `condition` holds: its minute rollups appended to the pending
    /// tables, its audit entry queued (when there is one) and the agent's row updated from the
    /// heartbeat.
    private static func appendBatchRecord(
        _ rollup: MinuteRollup, batch: ResultBatch, region: String, seen: Int64, accepted: Int, auditDetail: String?,
        onlyIf condition: String, to sql: inout PostgresQuery.StringInterpolation
    ) {
        let pending = rollup.rows(phasesTogether: true, minutesOnly: true)
        sql.appendLiteral("latency AS (")
        appendLatencyInsert(pending.phaseLatency[.minute] ?? [], span: .minute, pending: true, to: &sql)
        sql.appendLiteral(" WHERE \(condition)), outcomes AS (")
        appendOutcomeInsert(pending.outcomes[.minute] ?? [], span: .minute, pending: true, to: &sql)
        sql.appendLiteral(" WHERE \(condition)), audit AS (INSERT INTO audit_queue (at_ms, kind, detail) SELECT ")
        sql.appendInterpolation(seen)
        sql.appendLiteral(", 'batch', detail FROM (SELECT ")
        sql.appendInterpolation(auditDetail.map { $0 + " accepted=\(accepted)" })
        sql.appendLiteral("::text AS detail) AS d WHERE detail IS NOT NULL AND \(condition)), ")
        sql.appendLiteral(
            """
            heartbeat AS (
            INSERT INTO agents AS a (id, region, last_seen_ms, version, config_hash, spool_depth, dropped_total,
                                     quarantined_total, batches, results) SELECT * FROM (VALUES (
            """)
        let heartbeat = batch.heartbeat
        sql.appendValues([
            batch.agent, region, seen, heartbeat.version, heartbeat.configHash, Int64(heartbeat.spoolDepth),
            Int64(heartbeat.dropped), Int64(heartbeat.quarantined ?? 0), Int64(1), Int64(accepted),
        ])
        sql.appendLiteral(
            """
            )) AS v WHERE \(condition)
            ON CONFLICT (id) DO UPDATE SET region = excluded.region, last_seen_ms = excluded.last_seen_ms,
                version = excluded.version, config_hash = excluded.config_hash,
                spool_depth = excluded.spool_depth, dropped_total = a.dropped_total + excluded.dropped_total,
                quarantined_total = a.quarantined_total + excluded.quarantined_total,
                batches = a.batches + 1, results = a.results + excluded.results)
            """)
    }

    /// A batch id to remember until `until`, so that the same batch sent again is a replay.
    package struct BatchMemory: Sendable {
        var agent: String
        var batchID: String
        var until: Date

        package init(agent: String, batchID: String, until: Date) {
            (self.agent, self.batchID, self.until) = (agent, batchID, until)
        }
    }

    /// What `insertResults` inserted.
    package enum InsertedResults: Sendable {
        /// The batch id was remembered already: nothing was inserted.
        case replay
        /// Every row: their ids were all new, and all different.
        case all
        /// The rows with these ids; the others were stored already, or came twice.
        case only(Set<String>)

        package func count(of rows: Int) -> Int {
            switch self {
            case .replay: 0
            case .all: rows
            case .only(let ids): ids.count
            }
        }
    }

    /// Inserts a batch's results with one `UNNEST` statement, skipping ids already stored. With
    /// `remembering`, the same statement first remembers the batch id (until the later of the two
    /// times when it is known already) and inserts nothing when another batch had it: a replay. A
    /// replica inserting the same batch id at the same time waits for that transaction and then
    /// finds it. The answer is one row (not a row per result): the ids inserted only when some were
    /// not. The caller holds the transaction and has created the days' partitions
    /// (`ensurePartitions`). The ingest baseline (Benchmarks/PostgresIngestBaseline) runs this
    /// statement, whose clauses begin ingest's own (`writeAtOnce`), so the two stay comparable.
    package static func insertResults(
        _ rows: ResultColumns, remembering memory: BatchMemory? = nil, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> InsertedResults {
        guard rows.count > 0 || memory != nil else { return .all }
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 2048, interpolationCount: 20)
        appendResultsInsert(rows, remembering: memory, to: &sql)
        sql.appendLiteral(" SELECT (SELECT fresh FROM admitted), count(*), CASE WHEN count(*) < ")
        sql.appendInterpolation(Int64(rows.count))
        sql.appendLiteral(" THEN array_agg(id) END FROM inserted")
        let answer = try await connection.rows(PostgresQuery(stringInterpolation: sql), logger: logger)
        var inserted = InsertedResults.replay
        for (fresh, count, ids) in try answer.decode((Bool, Int64, [String]?).self) {
            inserted = !fresh ? .replay : count == rows.count ? .all : .only(Set(ids ?? []))
        }
        return inserted
    }

    /// `insertResults`' `WITH` clauses: `remembered` (the batch id), `admitted` (whether the batch
    /// is new) and `inserted` (the ids of the results stored).
    private static func appendResultsInsert(
        _ rows: ResultColumns, remembering memory: BatchMemory?, to sql: inout PostgresQuery.StringInterpolation
    ) {
        sql.appendLiteral(
            """
            WITH remembered AS (
                INSERT INTO batch_ids AS b (agent, batch_id, until_ms)
                SELECT agent, batch_id, until_ms FROM
            """)
        sql.appendLiteral(" (SELECT ")
        sql.appendInterpolation(memory?.agent)
        sql.appendLiteral("::text AS agent, ")
        sql.appendInterpolation(memory?.batchID)
        sql.appendLiteral("::text AS batch_id, ")
        sql.appendInterpolation(memory.map { Int64($0.until.timeIntervalSince1970 * 1000) })
        sql.appendLiteral(
            """
            ::bigint AS until_ms) AS m
                WHERE until_ms IS NOT NULL
                ON CONFLICT (agent, batch_id) DO UPDATE SET until_ms = GREATEST(b.until_ms, excluded.until_ms)
                RETURNING (xmax = 0) AS fresh
            ), admitted AS (
                SELECT COALESCE((SELECT fresh FROM remembered), \(memory == nil)) AS fresh
            ), inserted AS (
                INSERT INTO results (id, started_at_ms, agent, check_name, step, region, profile, class, ok,
                                     error_code, total_ms, json, tls_json)
                SELECT id, started_at_ms, agent, check_name, NULLIF(step, ''), region, profile, class, ok,
                       NULLIF(error_code, ''), total_ms, json, tls_json
                FROM UNNEST(
            """)
        for (index, (column, type)) in [
            (rows.ids as any PostgresNonThrowingEncodable, "text"), (rows.startedAt, "bigint"), (rows.agents, "text"),
            (rows.checks, "text"), (rows.steps, "text"), (rows.regions, "text"), (rows.profiles, "text"),
            (rows.classes, "text"), (rows.ok, "boolean"), (rows.errorCodes, "text"), (rows.totals, "float8"),
            (rows.json, "text"), (rows.json.tlsTexts, "text"),
        ].enumerated() {
            if index > 0 { sql.appendLiteral(", ") }
            sql.appendInterpolation(column)
            sql.appendLiteral("::\(type)[]")
        }
        sql.appendLiteral(
            """
            )
                     AS r(id, started_at_ms, agent, check_name, step, region, profile, class, ok, error_code,
                          total_ms, json, tls_json)
                WHERE (SELECT fresh FROM admitted)
                ON CONFLICT DO NOTHING
                RETURNING id
            )
            """)
    }

    /// Appends the latency and outcome rows: no row is ever updated, so concurrent writers never
    /// wait for each other's commit (`compactRollups` merges them later).
    static func save(_ rows: MinuteRollup.Rows, on connection: PostgresConnection, logger: Logger) async throws {
        for span in MinuteRollup.Span.allCases {
            if let latency = rows.phaseLatency[span], !latency.isEmpty {
                var sql = PostgresQuery.StringInterpolation(literalCapacity: 512, interpolationCount: 14)
                appendLatencyInsert(latency, span: span, pending: false, to: &sql)
                try await connection.query(PostgresQuery(stringInterpolation: sql), logger: logger)
            }
            if let outcomes = rows.outcomes[span], !outcomes.isEmpty {
                var sql = PostgresQuery.StringInterpolation(literalCapacity: 512, interpolationCount: 7)
                appendOutcomeInsert(outcomes, span: span, pending: false, to: &sql)
                try await connection.query(PostgresQuery(stringInterpolation: sql), logger: logger)
            }
        }
    }

    /// `INSERT … SELECT … FROM UNNEST(…)` of latency rows into the span's table, or (`pending`,
    /// minutes only) into `latency_pending` for `rollUpPending`.
    static func appendLatencyInsert(
        _ latency: [MinuteRollup.Row<[LatencyHistogram]>], span: MinuteRollup.Span, pending: Bool,
        to sql: inout PostgresQuery.StringInterpolation
    ) {
        let total = PhaseTimings.Phase.allCases.firstIndex(of: .total)!
        let check = span == .minute ? "check_name, " : ""
        let table = pending ? RollupTables.latencyPending : span.latencyTable
        sql.appendLiteral(
            """
            INSERT INTO \(table) (\(span.column), region, profile, \(check)class, count, \(PhaseHistograms.columns))
            SELECT bucket, region, profile, \(check)class, count, \(PhaseHistograms.columns)
            FROM UNNEST(
            """)
        appendKeyArrays(latency, to: &sql)
        sql.appendLiteral(", ")
        sql.appendInterpolation(latency.map { Int64($0.value[total].count) })
        sql.appendLiteral("::bigint[]")
        for phase in PhaseHistograms.phases.indices {
            sql.appendLiteral(", ")
            sql.appendInterpolation(HistogramColumn(latency.map { $0.value[phase] }))
            sql.appendLiteral("::bytea[]")
        }
        sql.appendLiteral(") AS u(bucket, region, profile, check_name, class, count, \(PhaseHistograms.columns))")
    }

    /// `INSERT … SELECT * FROM UNNEST(…)` of outcome counts into the span's table, or (`pending`,
    /// minutes only) into `outcome_pending` for `rollUpPending`.
    static func appendOutcomeInsert(
        _ outcomes: [MinuteRollup.Row<Int>], span: MinuteRollup.Span, pending: Bool,
        to sql: inout PostgresQuery.StringInterpolation
    ) {
        let table = pending ? RollupTables.outcomePending : span.outcomeTable
        sql.appendLiteral(
            "INSERT INTO \(table) (\(span.column), region, profile, check_name, class, error_code, count) SELECT * FROM UNNEST("
        )
        appendKeyArrays(outcomes, to: &sql)
        sql.appendLiteral(", ")
        sql.appendInterpolation(outcomes.map(\.label))
        sql.appendLiteral("::text[], ")
        sql.appendInterpolation(outcomes.map { Int64($0.value) })
        sql.appendLiteral("::bigint[])")
    }

    /// Rollup rows' keys as five array parameters: bucket, region, profile, check and class.
    private static func appendKeyArrays<Value>(
        _ rows: [MinuteRollup.Row<Value>], to sql: inout PostgresQuery.StringInterpolation
    ) {
        sql.appendInterpolation(rows.map(\.bucket))
        sql.appendLiteral("::bigint[]")
        for texts in [rows.map(\.region), rows.map(\.profile), rows.map { $0.check ?? "" }, rows.map(\.endpointClass)] {
            sql.appendLiteral(", ")
            sql.appendInterpolation(texts)
            sql.appendLiteral("::text[]")
        }
    }
}

extension MinuteRollup {
    /// The rollup of every result of a batch. Each is borrowed from the array's buffer, and only its
    /// fields are passed on: `for result in results` copies each 744-byte result and retains its
    /// strings (with `ResultColumns`, 1.5 % of a replica under `bench/pg-ingest.sh`).
    package init(_ results: [ProbeResult], agentRegion: String) {
        self.init()
        results.withUnsafeBufferPointer { results in
            for i in results.indices {
                add(
                    key: RollupKey(results[i], agentRegion: agentRegion), startedAt: results[i].startedAt,
                    ok: results[i].ok, errorCode: results[i].error?.code.rawValue ?? "", phases: results[i].phases)
            }
        }
    }
}

extension PostgresQuery.StringInterpolation {
    /// Appends each value as a bound parameter, with commas between them.
    mutating func appendValues(_ values: [any PostgresDynamicTypeEncodable]) {
        for (index, value) in values.enumerated() {
            if index > 0 { appendLiteral(", ") }
            appendInterpolation(value)
        }
    }
}

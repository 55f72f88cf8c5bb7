import Foundation
import GRDB
import SondaConfig
import SondaCore

extension SQLiteStore {
    public func latencyHistograms(span: RollupSpan, filter: CellFilter, phases: [String]) async throws
        -> [BudgetCellKey: [String: HistogramAccumulator]]
    {
        let cellArguments: StatementArguments = [
            span.since, filter.region, filter.region, filter.profile, filter.profile, filter.endpointClass,
            filter.endpointClass,
        ]
        let phaseList = String(decoding: try JSONEncoder().encode(phases), as: UTF8.self)
        return try await pool.read { db in
            var histograms: [BudgetCellKey: [String: HistogramAccumulator]] = [:]
            let rows = try Row.fetchCursor(
                db, sql: SQLiteRollupSQL.histograms(span.granularity), arguments: cellArguments + [phaseList])
            while let row = try rows.next() {
                let key = BudgetCellKey(region: row[0], profile: row[1], endpointClass: row[2])
                let data: Data = row[4]
                histograms[key, default: [:]][row[3], default: HistogramAccumulator()].add(serialized: data)
            }
            // Cells that only failed in the span still appear, as no-data.
            for row in try Row.fetchAll(db, sql: SQLiteRollupSQL.cells(span.granularity), arguments: cellArguments) {
                let key = BudgetCellKey(region: row[0], profile: row[1], endpointClass: row[2])
                if histograms[key] == nil { histograms[key] = [:] }
            }
            return histograms
        }
    }

    public func outcomeCounts(span: RollupSpan, check: String?, region: String?) async throws -> [OutcomeCount] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: SQLiteRollupSQL.outcomeCounts(span.granularity),
                arguments: [span.since, check, check, region, region]
            ).map { OutcomeCount(check: $0[0], region: $0[1], total: $0[2], failed: $0[3]) }
        }
    }

    public func agents() async throws -> [AgentRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM agents").map(Self.agent) }
    }

    public func agents(ids: [String]) async throws -> [AgentRecord] {
        guard !ids.isEmpty else { return [] }
        // One bound JSON array rather than a placeholder per id: a page may hold a thousand.
        let list = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM agents WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                arguments: [list]
            ).map(Self.agent)
        }
    }

    static func agent(_ row: Row) -> AgentRecord {
        AgentRecord(
            id: row["id"], region: row["region"],
            lastSeen: Date(timeIntervalSince1970: Double(row["last_seen_ms"] as Int64) / 1000),
            version: row["version"], configHash: row["config_hash"], spoolDepth: row["spool_depth"],
            dropped: row["dropped_total"], quarantined: row["quarantined_total"], batches: row["batches"],
            results: row["results"])
    }

    public func results(check: String, before cursor: ResultCursor?, limit: Int) async throws -> [StoredResult] {
        var sql = "SELECT started_at_ms, id, json FROM results WHERE check_name = ?"
        var arguments: StatementArguments = [check]
        if let cursor {
            sql += " AND (started_at_ms < ? OR (started_at_ms = ? AND id < ?))"
            arguments += [cursor.startedAtMilliseconds, cursor.startedAtMilliseconds, cursor.id]
        }
        sql += " ORDER BY started_at_ms DESC, id DESC LIMIT ?"
        arguments += [limit]
        return try await pool.read { [sql, arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                StoredResult(cursor: ResultCursor(startedAtMilliseconds: $0[0], id: $0[1]), json: $0[2])
            }
        }
    }

    public func knowsCheck(_ name: String, sinceDay: Int64) async throws -> Bool {
        try await pool.read { db in
            let known =
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM results WHERE check_name = ?)", arguments: [name]) ?? false
            return try known
                || Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM outcome_day WHERE day >= ? AND check_name = ?)",
                    arguments: [sinceDay, name]) ?? false
        }
    }

    public func uptimeHistory(slo: AggregatorConfig.Objective, now: Date) async throws -> UptimeHistory {
        try await pool.read { db in try UptimeHistory.load(slo: slo, now: now, in: db) }
    }

    public func certificateExpiry(checks: [String], now: Date) async throws -> CertificateExpiry {
        try await pool.read { db in try CertificateExpiry.load(checks: checks, now: now, in: db) }
    }

    public func checkLatency(check: String, bucketing: CheckLatency.Bucketing, profile: String?, now: Date)
        async throws -> CheckLatency
    {
        try await pool.read { db in
            try CheckLatency.load(check: check, bucketing: bucketing, profile: profile, now: now, in: db)
        }
    }

    public func checkFailures(
        check: String, regions: [String], profiles: [String], fromMinute: Int64, toMinute: Int64, limit: Int
    ) async throws -> CheckFailures {
        try await pool.read { db in
            try CheckFailures.load(
                check: check, regions: regions, profiles: profiles, fromMinute: fromMinute, toMinute: toMinute,
                limit: limit, in: db)
        }
    }
}

import Foundation
import NIOCore
import PostgresNIO
import SondaConfig
import SondaCore

extension PostgresStore {
    public func latencyHistograms(span: RollupSpan, filter: CellFilter, phases: [String]) async throws
        -> [BudgetCellKey: [String: HistogramAccumulator]]
    {
        try await withConnection { [logger] connection in
            var binds = PostgresBindings()
            binds.append(span.since)
            let condition = Self.condition(filter, binds: &binds)
            // Column names from the closed set of phases; a phase this version does not know has none.
            let wanted = PhaseHistograms.phases.map(\.rawValue).filter(phases.contains)
            var histograms: [BudgetCellKey: [String: HistogramAccumulator]] = [:]
            if !wanted.isEmpty {
                let rows = try await connection.rows(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT region, profile, class, \(wanted.joined(separator: ", ")) FROM \(span.latencySource)
                            WHERE \(span.column) >= $1\(condition)
                            """, binds: binds), logger: logger)
                for row in rows {
                    let cells = row.makeRandomAccess()
                    let key = BudgetCellKey(
                        region: try cells[0].decode(String.self), profile: try cells[1].decode(String.self),
                        endpointClass: try cells[2].decode(String.self))
                    for (i, phase) in wanted.enumerated() {
                        let histogram = try cells[3 + i].decode(ByteBuffer.self)
                        guard histogram.readableBytes > 0 else { continue }
                        histogram.withUnsafeReadableBytes { bytes in
                            histograms[key, default: [:]][phase, default: HistogramAccumulator()].add(serialized: bytes)
                        }
                    }
                }
            }
            // Cells that only failed in the span still appear, as no-data.
            var seenBinds = PostgresBindings()
            seenBinds.append(span.since)
            let seenCondition = Self.condition(filter, binds: &seenBinds)
            let seen = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT DISTINCT region, profile, class FROM \(span.outcomeSource)
                        WHERE \(span.column) >= $1\(seenCondition)
                        """, binds: seenBinds), logger: logger)
            for (region, profile, endpointClass) in try seen.decode((String, String, String).self) {
                let key = BudgetCellKey(region: region, profile: profile, endpointClass: endpointClass)
                if histograms[key] == nil { histograms[key] = [:] }
            }
            return histograms
        }
    }

    /// " AND region = $n …" for the filter's set fields, their values appended to `binds`.
    static func condition(_ filter: CellFilter, binds: inout PostgresBindings) -> String {
        var condition = ""
        for (column, value) in [
            ("region", filter.region), ("profile", filter.profile), ("class", filter.endpointClass),
        ] {
            guard let value else { continue }
            binds.append(value)
            condition += " AND \(column) = $\(binds.count)"
        }
        return condition
    }

    public func outcomeCounts(span: RollupSpan, check: String?, region: String?) async throws -> [OutcomeCount] {
        try await withConnection { [logger] connection in
            var binds = PostgresBindings()
            binds.append(span.since)
            var condition = ""
            for (column, value) in [("check_name", check), ("region", region)] {
                guard let value else { continue }
                binds.append(value)
                condition += " AND \(column) = $\(binds.count)"
            }
            let rows = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT check_name, region, SUM(count)::bigint,
                               SUM(CASE WHEN error_code != '' THEN count ELSE 0 END)::bigint
                        FROM \(span.outcomeSource) WHERE \(span.column) >= $1\(condition)
                        GROUP BY check_name, region
                        """, binds: binds), logger: logger)
            var counts: [OutcomeCount] = []
            for (check, region, total, failed) in try rows.decode((String, String, Int, Int).self) {
                counts.append(OutcomeCount(check: check, region: region, total: total, failed: failed))
            }
            return counts
        }
    }

    public func agents() async throws -> [AgentRecord] {
        try await agents("SELECT \(unescaped: Self.agentColumns) FROM agents")
    }

    public func agents(ids: [String]) async throws -> [AgentRecord] {
        guard !ids.isEmpty else { return [] }
        return try await agents(
            "SELECT \(unescaped: Self.agentColumns) FROM agents WHERE id = ANY(\(ids)) ORDER BY id COLLATE \"C\"")
    }

    static let agentColumns =
        "id, region, last_seen_ms, version, config_hash, spool_depth, dropped_total, quarantined_total, batches, results"

    private func agents(_ query: PostgresQuery) async throws -> [AgentRecord] {
        try await withConnection { [logger] connection in
            let rows = try await connection.rows(query, logger: logger)
            var agents: [AgentRecord] = []
            for (
                id, region, lastSeen, version, configHash, spoolDepth, dropped, quarantined, batches, results
            )
                in try rows.decode(
                    (String, String, Int64, String, String, Int, Int, Int, Int, Int).self)
            {
                agents.append(
                    AgentRecord(
                        id: id, region: region, lastSeen: Date(timeIntervalSince1970: Double(lastSeen) / 1000),
                        version: version, configHash: configHash, spoolDepth: spoolDepth, dropped: dropped,
                        quarantined: quarantined, batches: batches, results: results))
            }
            return agents
        }
    }

    public func results(check: String, before cursor: ResultCursor?, limit: Int) async throws -> [StoredResult] {
        try await withConnection { [logger] connection in
            let query: PostgresQuery
            if let cursor {
                query = """
                    SELECT started_at_ms, id, json FROM results
                    WHERE check_name = \(check) AND (started_at_ms, id) < (\(cursor.startedAtMilliseconds), \(cursor.id))
                    ORDER BY started_at_ms DESC, id DESC LIMIT \(limit)
                    """
            } else {
                query = """
                    SELECT started_at_ms, id, json FROM results WHERE check_name = \(check)
                    ORDER BY started_at_ms DESC, id DESC LIMIT \(limit)
                    """
            }
            var results: [StoredResult] = []
            for (ms, id, json) in try await connection.rows(query, logger: logger).decode(
                (Int64, String, String).self)
            {
                results.append(StoredResult(cursor: ResultCursor(startedAtMilliseconds: ms, id: id), json: json))
            }
            return results
        }
    }

    public func knowsCheck(_ name: String, sinceDay: Int64) async throws -> Bool {
        try await withConnection { [logger] connection in
            let rows = try await connection.rows(
                """
                SELECT EXISTS (SELECT 1 FROM results WHERE check_name = \(name))
                    OR EXISTS (SELECT 1 FROM \(unescaped: MinuteRollup.Span.day.outcomeSource)
                               WHERE check_name = \(name) AND day >= \(sinceDay))
                """, logger: logger)
            for known in try rows.decode(Bool.self) { return known }
            return false
        }
    }
}

import Foundation
import Logging
import NIOCore
import PostgresNIO
import SondaAggregator
import SondaConfig

/// Writes generated rows into a PostgreSQL store's tables with bulk `UNNEST` statements, on a
/// connection of its own. The store is opened first (`PostgresStore.open` migrates), so the tables
/// are the project's schema. Latency rows are appended, as PostgreSQL's ingest appends one row
/// per batch and key, and so are outcome rows, as ingest appends them.
public final class PostgresRollupFill: Sendable {
    public let store: PostgresStore
    let connection: PostgresConnection
    let logger: Logger
    /// Rows per statement: PostgreSQL takes up to 65 535 parameters, but an array is one.
    static let chunk = 20_000

    public init(url: PostgresURL) async throws {
        var logger = Logger(label: "rollup-fill")
        logger.logLevel = .warning
        store = try await PostgresStore.open(url, logger: logger)
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        self.logger = logger
    }

    public func close() async throws {
        try await connection.close()
        await store.close()
    }

    /// `table` is `latency_minute` (rows with checks), `latency_hour` or `latency_day`. `copies`:
    /// each row this many times, as that many batches appending to the key would leave it.
    public func insert(_ rows: LatencyRows, into table: String, copies: Int = 1) async throws {
        if copies > 1 {
            var repeated = LatencyRows()
            for _ in 0..<copies { repeated.append(contentsOf: rows) }
            return try await insert(repeated, into: table)
        }
        let withCheck = !rows.checks.isEmpty
        let column = String(table.dropFirst("latency_".count))
        for start in stride(from: 0, to: rows.count, by: Self.chunk) {
            let range = start..<min(start + Self.chunk, rows.count)
            var binds = PostgresBindings()
            binds.append(Array(rows.buckets[range]))
            binds.append(Array(rows.regions[range]))
            binds.append(Array(rows.profiles[range]))
            binds.append(Array(rows.classes[range]))
            binds.append(Array(rows.phases[range]))
            binds.append(Array(rows.counts[range]))
            binds.append(rows.histograms[range].map { ByteBuffer(bytes: $0) })
            if withCheck { binds.append(Array(rows.checks[range])) }
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table) (\(column), region, profile, class, phase, count, histogram\(withCheck ? ", check_name" : ""))
                        SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                                             $7::bytea[]\(withCheck ? ", $8::text[]" : ""))
                        """, binds: binds), logger: logger)
        }
    }

    public func insert(_ rows: OutcomeRows, into table: String) async throws {
        let column = String(table.dropFirst("outcome_".count))
        for start in stride(from: 0, to: rows.count, by: Self.chunk) {
            let range = start..<min(start + Self.chunk, rows.count)
            var binds = PostgresBindings()
            binds.append(Array(rows.buckets[range]))
            binds.append(Array(rows.regions[range]))
            binds.append(Array(rows.profiles[range]))
            binds.append(Array(rows.checks[range]))
            binds.append(Array(rows.classes[range]))
            binds.append(Array(rows.errorCodes[range]))
            binds.append(Array(rows.counts[range]))
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table) (\(column), region, profile, check_name, class, error_code, count)
                        SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                             $7::bigint[])
                        """, binds: binds), logger: logger)
        }
    }

    /// Agents with a heartbeat (version 0.1.0, one batch each).
    public func insert(_ rows: AgentRows) async throws {
        try await connection.query(
            """
            INSERT INTO agents (id, region, last_seen_ms, version, config_hash, spool_depth, dropped_total, batches, results)
            SELECT id, region, seen, '0.1.0', 'abc', 0, 0, 1, 1
            FROM UNNEST(\(rows.ids)::text[], \(rows.regions)::text[], \(rows.lastSeenMilliseconds)::bigint[])
                 AS a(id, region, seen)
            ON CONFLICT (id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms
            """, logger: logger)
    }

    /// Raw results, through the statement ingest uses, into partitions created as ingest creates them.
    package func insert(_ results: ResultColumns) async throws {
        try await store.ensurePartitions(days: results.days, on: connection)
        _ = try await connection.withTransaction(logger: logger) { [logger] connection in
            try await PostgresStore.insertResults(results, on: connection, logger: logger)
        }
    }

    /// Updates the planner's statistics, as autovacuum would soon after a bulk load.
    public func analyze() async throws {
        try await connection.query("ANALYZE", logger: logger)
    }
}

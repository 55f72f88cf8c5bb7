import Foundation
import Logging
import NIOCore
import PostgresNIO
import SondaAggregator
import SondaConfig
import SondaCore

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
        // PostgreSQL keeps a key's phases in one row, a column each (`PhaseHistograms`): the
        // generated rows of one key are grouped into one, as ingest writes them.
        let withCheck = !rows.checks.isEmpty
        let column = String(table.dropFirst("latency_".count))
        let phases = PhaseTimings.Phase.allCases.map(\.rawValue)
        var keys: [LatencyKey: Int] = [:]
        var grouped = LatencyRows()
        var histograms: [[Data]] = []
        for i in 0..<rows.count {
            let key = LatencyKey(
                bucket: rows.buckets[i], region: rows.regions[i], profile: rows.profiles[i],
                check: withCheck ? rows.checks[i] : "", endpointClass: rows.classes[i])
            let at =
                keys[key]
                ?? {
                    keys[key] = grouped.count
                    grouped.buckets.append(key.bucket)
                    grouped.regions.append(key.region)
                    grouped.profiles.append(key.profile)
                    grouped.checks.append(key.check)
                    grouped.classes.append(key.endpointClass)
                    grouped.counts.append(0)
                    histograms.append(Array(repeating: Data(), count: phases.count))
                    return grouped.count - 1
                }()
            if rows.phases[i] == "total" { grouped.counts[at] += rows.counts[i] }
            if let phase = phases.firstIndex(of: rows.phases[i]) { histograms[at][phase] = rows.histograms[i] }
        }
        let columns = phases.joined(separator: ", ")
        let arrays = phases.indices.map { "$\(7 + $0)::bytea[]" }.joined(separator: ", ")
        let check = withCheck ? "check_name, " : ""
        for start in stride(from: 0, to: grouped.count, by: Self.chunk) {
            let range = start..<min(start + Self.chunk, grouped.count)
            var binds = PostgresBindings()
            binds.append(Array(grouped.buckets[range]))
            binds.append(Array(grouped.regions[range]))
            binds.append(Array(grouped.profiles[range]))
            binds.append(Array(grouped.checks[range]))
            binds.append(Array(grouped.classes[range]))
            binds.append(Array(grouped.counts[range]))
            for phase in phases.indices { binds.append(histograms[range].map { ByteBuffer(bytes: $0[phase]) }) }
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table) (\(column), region, profile, \(check)class, count, \(columns))
                        SELECT bucket, region, profile, \(check)class, count, \(columns)
                        FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], \(arrays))
                             AS u(bucket, region, profile, check_name, class, count, \(columns))
                        """, binds: binds), logger: logger)
        }
    }

    private struct LatencyKey: Hashable {
        var bucket: Int64
        var region: String, profile: String, check: String, endpointClass: String
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

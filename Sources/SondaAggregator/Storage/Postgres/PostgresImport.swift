import Foundation
import NIOCore
import PostgresNIO
import SondaCore

/// What `sonda-aggregator migrate` writes into PostgreSQL: a SQLite file's rows, a chunk per
/// transaction, each chunk one `INSERT … SELECT FROM UNNEST` with an array per column (a nullable
/// column travels with a second array saying which rows are NULL, as postgres-nio binds no array
/// of optionals).
extension PostgresStore {
    /// The tables of `tables` that already hold rows.
    func tablesHoldingRows(_ tables: [CopiedTable]) async throws -> [String] {
        try await withConnection { [logger] connection in
            var held: [String] = []
            for table in tables {
                for exists in try await connection.rows(
                    PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table.name))"), logger: logger
                ).decode(Bool.self) where exists {
                    held.append(table.name)
                }
            }
            return held
        }
    }

    /// An evaluator cursor before every transaction that has not ended yet: what `alertStart`
    /// takes when no cursor was saved.
    func cursorBeforeRunningTransactions() async throws -> Int64 {
        try await withConnection { [logger] connection in
            var cursor: Int64 = 0
            for xmin in try await connection.rows(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1", logger: logger
            ).decode(Int64.self) {
                cursor = xmin
            }
            return cursor
        }
    }

    /// Inserts a chunk of `table`'s rows in one transaction and returns that transaction's id.
    /// Results get their day partitions first, and are stored under that id (`ingest_xid`), in
    /// the chunk's order.
    @discardableResult
    func importRows(_ rows: CopiedRows, into table: CopiedTable) async throws -> Int64 {
        var partitioned: Set<Int64> = []
        if table.name == CopiedTable.results.name,
            let index = table.columns.firstIndex(where: { $0.name == "started_at_ms" }),
            case .bigint(let startedAt) = rows.values[index]
        {
            partitioned = Set(startedAt.map { $0.floorDivided(by: 86_400_000) })
        }
        let days = partitioned
        let insert = Self.insertion(rows, into: table)
        return try await withConnection { connection in
            try await self.ensurePartitions(days: days, on: connection)
            let logger = self.logger
            return try await connection.withTransaction(logger: logger) { connection in
                try await connection.query(insert, logger: logger)
                var xid: Int64 = 0
                for id in try await connection.rows(
                    "SELECT pg_current_xact_id()::text::bigint", logger: logger
                ).decode(Int64.self) {
                    xid = id
                }
                return xid
            }
        }
    }

    /// `INSERT INTO table (columns) SELECT … FROM UNNEST(one array per column, one per null mask)`.
    static func insertion(_ rows: CopiedRows, into table: CopiedTable) -> PostgresQuery {
        var binds = PostgresBindings()
        var arrays: [String] = []
        var aliases: [String] = []
        var masks: [String] = []
        var selected: [String] = []
        for (i, column) in table.columns.enumerated() {
            switch rows.values[i] {
            case .text(let values): binds.append(values)
            case .bigint(let values): binds.append(values)
            case .double(let values): binds.append(values)
            case .boolean(let values): binds.append(values)
            case .bytes(let values): binds.append(values.map { ByteBuffer(bytes: $0) })
            }
            arrays.append("$\(binds.count)::\(column.kind.postgresArray)")
            aliases.append(column.name)
            if let nulls = rows.nulls[i] {
                binds.append(nulls)
                masks.append("$\(binds.count)::boolean[]")
                selected.append("CASE WHEN u.\(column.name)_is_null THEN NULL ELSE u.\(column.name) END")
            } else {
                selected.append("u.\(column.name)")
            }
        }
        var targets = aliases
        if aliases.contains("phase") {
            // SQLite keeps a latency row per phase, PostgreSQL a row per key with a column per
            // phase (`PhaseHistograms`): each copied row becomes a row of one phase, which the
            // compaction merges like rows appended by ingest.
            let kept = zip(aliases, selected).filter { !["phase", "count", "histogram"].contains($0.0) }
            targets = kept.map(\.0) + ["count"] + PhaseHistograms.phases.map(\.rawValue)
            selected =
                kept.map(\.1) + ["CASE WHEN u.phase = 'total' THEN u.count ELSE 0 END"]
                + PhaseHistograms.columns(fromPhase: "u.phase", histogram: "u.histogram")
        }
        let maskAliases = table.columns.filter(\.nullable).map { "\($0.name)_is_null" }
        let unnested = "UNNEST(\((arrays + masks).joined(separator: ", ")))"
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO \(table.name) (\(targets.joined(separator: ", ")))
                SELECT \(selected.joined(separator: ", "))
                FROM \(unnested) AS u(\((aliases + maskAliases).joined(separator: ", ")))
                """, binds: binds)
    }

    /// Adds a rollup to the rollup tables in one transaction, as ingest adds a batch's.
    func importRollup(_ rollup: MinuteRollup) async throws {
        guard !rollup.isEmpty else { return }
        try await withConnection { [logger] connection in
            try await connection.withTransaction(logger: logger) { connection in
                try await Self.save(rollup.rows(phasesTogether: true), on: connection, logger: logger)
            }
        }
    }

    /// After the copy: the audit chain's next entry numbered after the copied ones, and the alert
    /// evaluator's cursor at `alertCursor`, a transaction id (results stored in it or before are
    /// not read again as new).
    func finishImport(alertCursor: Int64) async throws {
        try await withConnection { [logger] connection in
            try await connection.withTransaction(logger: logger) { connection in
                _ = try await connection.rows(
                    "SELECT setval(pg_get_serial_sequence('audit', 'seq'), (SELECT max(seq) FROM audit))",
                    logger: logger)
                try await connection.query(
                    """
                    INSERT INTO alert_cursor (name, value) VALUES ('results', \(alertCursor))
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value
                    """, logger: logger)
            }
        }
    }
}

extension CopiedTable.Kind {
    var postgresArray: String {
        switch self {
        case .text: "text[]"
        case .bigint: "bigint[]"
        case .double: "float8[]"
        case .boolean: "boolean[]"
        case .bytes: "bytea[]"
        }
    }
}

import Foundation
import GRDB
import SondaAggregator

/// Writes generated rows into a SQLite store's tables directly, as ingest would leave them (one
/// row per key: SQLite's ingest merges a key's histograms into its row).
public struct SQLiteRollupFill: Sendable {
    public let store: SQLiteStore

    public init(store: SQLiteStore) { self.store = store }

    /// `table` is `latency_minute` (rows with checks), `latency_hour` or `latency_day`.
    public func insert(_ rows: LatencyRows, into table: String) async throws {
        try await store.pool.write { db in
            let withCheck = !rows.checks.isEmpty
            let insert = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO \(table) VALUES (?, ?, ?, \(withCheck ? "?, " : "")?, ?, ?, ?)")
            for i in 0..<rows.count {
                var values: [any DatabaseValueConvertible] = [rows.buckets[i], rows.regions[i], rows.profiles[i]]
                if withCheck { values.append(rows.checks[i]) }
                values += [rows.classes[i], rows.phases[i], rows.counts[i], rows.histograms[i]]
                try insert.execute(arguments: StatementArguments(values))
            }
        }
    }

    public func insert(_ rows: OutcomeRows, into table: String) async throws {
        try await store.pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO \(table) VALUES (?, ?, ?, ?, ?, ?, ?)")
            for i in 0..<rows.count {
                try insert.execute(arguments: [
                    rows.buckets[i], rows.regions[i], rows.profiles[i], rows.checks[i], rows.classes[i],
                    rows.errorCodes[i], rows.counts[i],
                ])
            }
        }
    }
}

import Foundation
import GRDB

extension MinuteRollup {
    /// Merges this rollup into SQLite's tables: histograms merged into the stored row's, counts added.
    func save(in db: Database) throws {
        let rows = rows
        for span in Span.allCases {
            let dimensions = span == .minute ? ["region", "profile", "check_name", "class"] : ["region", "profile", "class"]
            try Self.merge(
                (rows.latency[span] ?? []).map { ($0.arguments(checkColumn: span == .minute), $0.value) },
                table: span.latencyTable, columns: [span.column] + dimensions + ["phase"], in: db)
            try Self.add(
                (rows.outcomes[span] ?? []).map { ($0.arguments(checkColumn: true), $0.value) },
                table: span.outcomeTable, columns: [span.column, "region", "profile", "check_name", "class", "error_code"],
                in: db)
        }
    }

    /// Merges histograms into the rows with these key values.
    static func merge(
        _ rows: [(StatementArguments, LatencyHistogram)], table: String, columns: [String], in db: Database
    ) throws {
        let select = try db.cachedStatement(
            sql: "SELECT histogram FROM \(table) WHERE " + columns.map { "\($0) = ?" }.joined(separator: " AND "))
        let upsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", ")), count, histogram) VALUES ("
                + Array(repeating: "?", count: columns.count + 2).joined(separator: ", ") + ")")
        for (arguments, added) in rows {
            var histogram = added
            if let stored = try Data.fetchOne(select, arguments: arguments),
                let existing = LatencyHistogram(serialized: stored)
            {
                histogram.merge(existing)
            }
            try upsert.execute(arguments: arguments + [Int64(histogram.count), Data(histogram.serialized)])
        }
    }

    /// Adds counts to the rows with these key values.
    static func add(_ rows: [(StatementArguments, Int)], table: String, columns: [String], in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO \(table) (\(columns.joined(separator: ", ")), count) VALUES ("
                + Array(repeating: "?", count: columns.count + 1).joined(separator: ", ")
                + ") ON CONFLICT DO UPDATE SET count = count + excluded.count")
        for (arguments, n) in rows { try statement.execute(arguments: arguments + [n]) }
    }
}

extension MinuteRollup.Row {
    /// The key columns' values in table order.
    func arguments(checkColumn: Bool) -> StatementArguments {
        checkColumn
            ? [bucket, region, profile, check ?? "", endpointClass, label] : [bucket, region, profile, endpointClass, label]
    }
}

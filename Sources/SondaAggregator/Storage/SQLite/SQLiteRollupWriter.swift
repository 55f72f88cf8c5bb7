import Foundation
import GRDB

extension MinuteRollup {
    /// Merges this rollup into SQLite's tables: histograms merged into the stored row's, counts added.
    func save(in db: Database) throws {
        let rows = rows()
        for span in Span.allCases {
            try Self.merge(
                (rows.latency[span] ?? []).map { ($0.arguments(checkColumn: span == .minute), $0.value) }, span: span,
                in: db)
            try Self.add(
                (rows.outcomes[span] ?? []).map { ($0.arguments(checkColumn: true), $0.value) }, span: span, in: db)
        }
    }

    /// Merges histograms into the rows with these key values.
    static func merge(_ rows: [(StatementArguments, LatencyHistogram)], span: Span, in db: Database) throws {
        let select = try db.cachedStatement(sql: SQLiteRollupSQL.storedHistogram(span))
        let upsert = try db.cachedStatement(sql: SQLiteRollupSQL.replaceHistogram(span))
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
    static func add(_ rows: [(StatementArguments, Int)], span: Span, in db: Database) throws {
        let statement = try db.cachedStatement(sql: SQLiteRollupSQL.addOutcomes(span))
        for (arguments, n) in rows { try statement.execute(arguments: arguments + [n]) }
    }
}

extension MinuteRollup.Row {
    /// The key columns' values in table order.
    func arguments(checkColumn: Bool) -> StatementArguments {
        checkColumn
            ? [bucket, region, profile, check ?? "", endpointClass, label]
            : [bucket, region, profile, endpointClass, label]
    }
}

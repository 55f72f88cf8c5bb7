import Foundation
import GRDB
import SondaCore

extension MinuteRollup {
    /// Merges this rollup into SQLite's tables: histograms merged into the stored row's, counts added.
    /// A stored histogram that no longer decodes is replaced by this rollup's, and returned.
    @discardableResult
    func save(in db: Database) throws -> UndecodableHistograms {
        let rows = rows()
        var undecodable = UndecodableHistograms()
        for span in Span.allCases {
            try Self.merge(
                (rows.latency[span] ?? []).map { ($0.arguments(checkColumn: span == .minute), $0.value) }, span: span,
                in: db, undecodable: &undecodable)
            try Self.add(
                (rows.outcomes[span] ?? []).map { ($0.arguments(checkColumn: true), $0.value) }, span: span, in: db)
        }
        return undecodable
    }

    /// Merges histograms into the rows with these key values; a stored one that does not decode is
    /// counted in `undecodable` and replaced.
    static func merge(
        _ rows: [(StatementArguments, LatencyHistogram)], span: Span, in db: Database,
        undecodable: inout UndecodableHistograms
    ) throws {
        let select = try db.cachedStatement(sql: SQLiteRollupSQL.storedHistogram(span))
        let upsert = try db.cachedStatement(sql: SQLiteRollupSQL.replaceHistogram(span))
        for (arguments, added) in rows {
            var histogram = added
            if let stored = try GRDB.Row.fetchOne(select, arguments: arguments) {
                if let bytes: Data = stored[0], let existing = LatencyHistogram(serialized: bytes) {
                    histogram.merge(existing)
                } else {
                    undecodable.add(span.latencyTable, results: stored[1])
                }
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

/// Stored rollup histograms that no longer decode, met while merging new results into them. Each
/// is replaced by the new results' histogram, so the results it counted are lost from the rollup;
/// `record` reports that as a fault instead of letting it pass unseen.
struct UndecodableHistograms: Sendable {
    var rows = 0
    var results = 0
    var tables: Set<String> = []

    mutating func add(_ table: String, results lost: Int) {
        rows += 1
        results += lost
        tables.insert(table)
    }

    /// Records them as faults of cause `undecodable_rollup`, one per row.
    func record(in faults: FaultLog) {
        guard rows > 0 else { return }
        faults.record(
            .undecodableRollup,
            "\(rows) stored histogram\(rows == 1 ? "" : "s") of \(tables.sorted().joined(separator: ", ")) no longer "
                + "decode\(rows == 1 ? "s" : ""); replaced by the new results', losing the \(results) "
                + "result\(results == 1 ? "" : "s") \(rows == 1 ? "it" : "they") counted",
            occurrences: rows)
    }
}

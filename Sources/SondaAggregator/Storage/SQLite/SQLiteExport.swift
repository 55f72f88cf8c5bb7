import Foundation
import GRDB

/// An aggregator's SQLite file as `migrate` reads it: through a read-only connection (nothing is
/// migrated, recovered or written, as `audit verify` reads it), and all of it from one snapshot,
/// a read transaction held from `init` to `close`, so tables read a chunk at a time agree with
/// each other even if a `serve` is still writing the file.
///
/// A file from an older release lacks the tables of later migrations; they read as empty, as
/// they would be once `serve` had migrated the file. A file with migrations this release does
/// not know is refused.
final class SQLiteExport: Sendable {
    /// Where a chunked read stopped: the key of the last row read.
    struct Position: Sendable {
        var key: [DatabaseValue]

        init(rowID: Int64) { key = [rowID.databaseValue] }
        fileprivate init(key: [DatabaseValue]) { self.key = key }
    }

    let path: String
    private let queue: DatabaseQueue

    init(readOnly path: String) throws {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MigrationError(.unusableSource, "cannot read the SQLite file '\(path)'")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        configuration.allowsUnsafeTransactions = true
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.unsafeRead { db in
                try db.beginTransaction(.deferred)
                try Self.checkSchema(path, in: db)
            }
        } catch let error as MigrationError {
            throw error
        } catch let error as DatabaseError {
            throw MigrationError(
                .unusableSource, "cannot read '\(path)' as a SQLite database: \(error.message ?? "\(error)")")
        }
    }

    /// Ends the snapshot and closes the file.
    func close() {
        try? queue.unsafeRead { db in if db.isInsideTransaction { try db.commit() } }
        try? queue.close()
    }

    private static func checkSchema(_ path: String, in db: Database) throws {
        guard try db.tableExists("grdb_migrations") else {
            throw MigrationError(
                .unusableSource, "'\(path)' is not a sonda-aggregator database (it has no grdb_migrations table)")
        }
        let known = SchemaMigrations.migrator.migrations
        let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        guard applied.contains(known[0]) else {
            throw MigrationError(
                .unusableSource, "'\(path)' is not a sonda-aggregator database (no '\(known[0])' migration)")
        }
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw MigrationError(
                .unusableSource,
                "'\(path)' was written by a newer sonda-aggregator (migration '\(unknown)'); "
                    + "migrate it with that release")
        }
    }

    /// How many rows `table` has (0 when the file predates it).
    func count(_ table: CopiedTable) async throws -> Int {
        try await queue.read { db in
            guard try db.tableExists(table.name) else { return 0 }
            return try Int.fetchOne(db, sql: table.countSQL) ?? 0
        }
    }

    /// Up to `limit` rows of `table` in key order, after `position` (from the start when nil) and
    /// up to `through` (inclusive; to the end when nil), and the position of the last row read.
    func rows(_ table: CopiedTable, after position: Position?, through: Position? = nil, limit: Int) async throws
        -> (rows: CopiedRows, last: Position?)
    {
        try await queue.read { db in
            guard try db.tableExists(table.name) else { return (try CopiedRows(table, rows: []), nil) }
            let arguments = (position?.key ?? []) + (through?.key ?? []) + [limit.databaseValue]
            let sql = table.chunkSQL(after: position != nil, through: through != nil)
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
            var rows: [[DatabaseValue]] = []
            var last: Position?
            while let row = try cursor.next() {
                let values = row.databaseValues
                last = Position(key: Array(values.prefix(table.key.count)))
                rows.append(Array(values.dropFirst(table.key.count)))
            }
            return (try CopiedRows(table, rows: rows), last)
        }
    }

    /// The alert evaluator's cursor: the rowid of the last result it has read, nil when it has
    /// never saved one (it then starts from the newest result).
    func alertCursor() async throws -> Int64? {
        try await queue.read { db in
            guard try db.tableExists("alert_cursor") else { return nil }
            return try SQLiteAlerts.cursor(in: db)
        }
    }

    /// The rollup of the results past the rollup cursor, which a `serve` stopped without flushing
    /// (kill -9, power loss) had not merged into the rollup tables yet: what the next `serve`
    /// would fold in at start. Empty for a file that predates the cursor (rollups were then
    /// merged in each batch's transaction). Results that no longer decode are left out, and returned.
    func unfoldedRollup() async throws -> (rollup: MinuteRollup, results: Int, undecodable: UndecodableResults) {
        let unfolded = try await queue.read { db -> (MinuteRollup, Int, UndecodableResults)? in
            guard try db.tableExists("rollup_cursor") else { return nil }
            let cursor = try Int64.fetchOne(db, sql: "SELECT row_id FROM rollup_cursor") ?? 0
            let folded = try PendingRollups.fold(after: cursor, in: db)
            return (folded.rollup, folded.results, folded.undecodable)
        }
        return unfolded ?? (MinuteRollup(), 0, UndecodableResults())
    }
}

extension CopiedRows {
    /// The rows read from SQLite (each row's values in the table's column order), as columns.
    init(_ table: CopiedTable, rows: [[DatabaseValue]]) throws {
        count = rows.count
        values = []
        nulls = []
        for (i, column) in table.columns.enumerated() {
            let cells = rows.map { $0[i] }
            if !column.nullable, let row = cells.firstIndex(where: \.isNull) {
                throw MigrationError(.unusableSource, "\(table.name): row \(row + 1) of a chunk has no \(column.name)")
            }
            nulls.append(column.nullable ? cells.map(\.isNull) : nil)
            func convert<T>(_ placeholder: T, _ read: (DatabaseValue) -> T?) throws -> [T] {
                try cells.map { cell in
                    if cell.isNull { return placeholder }
                    guard let value = read(cell) else {
                        throw MigrationError(
                            .unusableSource, "\(table.name): \(column.name) holds \(cell), not a \(column.kind)")
                    }
                    return value
                }
            }
            switch column.kind {
            case .text: values.append(.text(try convert("", String.fromDatabaseValue)))
            case .bigint: values.append(.bigint(try convert(0, Int64.fromDatabaseValue)))
            case .double: values.append(.double(try convert(0, Double.fromDatabaseValue)))
            case .boolean: values.append(.boolean(try convert(false, Bool.fromDatabaseValue)))
            case .bytes: values.append(.bytes(try convert(Data(), Data.fromDatabaseValue)))
            }
        }
    }
}

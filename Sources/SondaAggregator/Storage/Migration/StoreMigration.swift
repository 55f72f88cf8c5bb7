import Foundation
import Logging
import SondaConfig

/// Moves an install from its SQLite file to PostgreSQL (`sonda-aggregator migrate`): every row of
/// every table as stored (results' JSON, rollup counts and histograms, agents, every alert
/// episode, silences, the audit chain with its sequence numbers and hashes), into a database that
/// holds none yet, after migrating its schema. The SQLite file is only read.
///
/// Two things are translated rather than copied. The alert evaluator's cursor is a results rowid
/// on SQLite and a transaction id on PostgreSQL: results the evaluator had read are copied first,
/// and the cursor is set to the transaction of their last chunk, so the evaluator reads only the
/// results it had not read yet. And results that a `serve` stopped by kill -9 had not folded into
/// the rollups yet are folded now, as the next `serve` on the file would have done.
public enum StoreMigration {
    /// Rows copied so far of one table, after each chunk.
    public struct Progress: Sendable {
        public var table: String
        public var copied: Int
        public var total: Int
    }

    public struct Summary: Sendable {
        /// Rows copied per table, in the order they were copied.
        public var tables: [(table: String, rows: Int)]
        /// Results already read by the alert evaluator (the rest it reads as new).
        public var evaluatedResults: Int
        /// Results the rollup tables did not count yet, folded in during the copy.
        public var foldedResults: Int
        /// Results of those that no longer decode: copied as stored, but left out of the rollups.
        public var undecodableResults: UndecodableResults
        /// The copied audit chain, walked on PostgreSQL.
        public var audit: AuditLog.Verification
    }

    /// Warnings and errors only: the command reports progress itself.
    public static var logger: Logger {
        var logger = Logger(label: "sonda-aggregator.migrate")
        logger.logLevel = .warning
        return logger
    }

    /// Copies the SQLite file at `path` into the database at `url`, `chunkRows` rows per
    /// transaction, calling `progress` after each chunk. Throws `MigrationError`.
    public static func copy(
        sqlite path: String, to url: PostgresURL, chunkRows: Int = 5000,
        logger: Logger = StoreMigration.logger, progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Summary {
        let source = try SQLiteExport(readOnly: path)
        defer { source.close() }
        let target: PostgresStore
        do {
            target = try await PostgresStore.open(url, logger: logger)
        } catch let error as PostgresStoreError {
            throw MigrationError(error.isUnreachable ? .targetUnreachable : .targetRefused, "\(error)")
        }
        do {
            let summary = try await Copy(source: source, target: target, url: url, chunkRows: chunkRows).run(progress)
            await target.close()
            return summary
        } catch {
            await target.close()
            throw error
        }
    }
}

/// One run of `StoreMigration.copy`, table by table.
private struct Copy {
    let source: SQLiteExport
    let target: PostgresStore
    let url: PostgresURL
    let chunkRows: Int

    func run(_ progress: (StoreMigration.Progress) -> Void) async throws -> StoreMigration.Summary {
        let held = try await writing("reading what it holds", started: false) {
            try await target.tablesHoldingRows(CopiedTable.all)
        }
        guard held.isEmpty else {
            throw MigrationError(
                .targetNotEmpty,
                "\(url.redacted) already holds \(held.joined(separator: ", ")); migrate copies into an empty database "
                    + "only. To start over, drop and recreate it (DROP DATABASE \(url.database); CREATE DATABASE "
                    + "\(url.database) OWNER \(url.user);) and run migrate again")
        }
        var tables: [(table: String, rows: Int)] = []
        // Results the evaluator has read, then the rest: its cursor goes between the two.
        let total = try await reading { try await source.count(.results) }
        let read = try await reading { try await source.alertCursor() }
        let evaluatedThrough = read.map(SQLiteExport.Position.init(rowID:))
        var alertCursor = try await writing("reading its transaction ids", started: false) {
            try await target.cursorBeforeRunningTransactions()
        }
        let evaluated = try await copyRows(.results, through: evaluatedThrough, total: total, progress)
        alertCursor = evaluated.lastTransaction ?? alertCursor
        var results = evaluated.rows
        if let evaluatedThrough {
            let rest = try await copyRows(.results, after: evaluatedThrough, copied: results, total: total, progress)
            results += rest.rows
        }
        tables.append(("results", results))

        for table in CopiedTable.rollups {
            let total = try await reading { try await source.count(table) }
            tables.append((table.name, try await copyRows(table, total: total, progress).rows))
        }
        let unfolded = try await reading { try await source.unfoldedRollup() }
        try await writing("counting unfolded results into the rollups") {
            try await target.importRollup(unfolded.rollup)
        }

        for table in [CopiedTable.agents, .alerts, .silences, .notifications, .audit] {
            let total = try await reading { try await source.count(table) }
            tables.append((table.name, try await copyRows(table, total: total, progress).rows))
        }
        try await writing("setting the evaluator cursor") { try await target.finishImport(alertCursor: alertCursor) }
        let audit = try await writing("walking the audit chain") { try await target.verifyAudit() }
        return .init(
            tables: tables, evaluatedResults: evaluated.rows, foldedResults: unfolded.results,
            undecodableResults: unfolded.undecodable, audit: audit)
    }

    /// Copies `table`'s rows after `start` and up to `through` (inclusive), a chunk per
    /// transaction; returns how many, and the transaction id of the last chunk.
    private func copyRows(
        _ table: CopiedTable, after start: SQLiteExport.Position? = nil, through: SQLiteExport.Position? = nil,
        copied before: Int = 0, total: Int, _ progress: (StoreMigration.Progress) -> Void
    ) async throws -> (rows: Int, lastTransaction: Int64?) {
        var copied = 0
        var position = start
        var transaction: Int64?
        while true {
            let (rows, last) = try await reading {
                try await source.rows(table, after: position, through: through, limit: chunkRows)
            }
            guard let last else { break }
            transaction = try await writing("copying \(table.name)") { try await target.importRows(rows, into: table) }
            (copied, position) = (copied + rows.count, last)
            progress(.init(table: table.name, copied: before + copied, total: total))
        }
        return (copied, transaction)
    }

    private func reading<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as MigrationError {
            throw error
        } catch {
            throw MigrationError(
                .unusableSource, "reading '\(source.path)': \(StoreOpening.unavailability(error) ?? "\(error)")")
        }
    }

    /// Runs a write to the target; once the copy has `started`, a failure says the target holds
    /// part of the data.
    private func writing<T>(_ action: String, started: Bool = true, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            var unreachable = false
            if case .unreachable = error as? PostgresStoreError { unreachable = true }
            let advice =
                started
                ? ". The database may hold part of the copy: drop and recreate it, then run migrate again" : ""
            throw MigrationError(
                unreachable ? .targetUnreachable : .copyFailed,
                "\(url.redacted): \(action) failed: \(PostgresStoreError.reason(error))\(advice)")
        }
    }
}

/// Why `sonda-aggregator migrate` stopped: one line a user can act on, without the password.
/// `code` says what kind of trouble it is, so the command can choose its exit status.
public struct MigrationError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        private let name: String

        /// The SQLite file cannot be used: missing, not a Sonda database, or written by a newer release.
        public static let unusableSource = Code(name: "unusableSource")
        /// The PostgreSQL server cannot be reached (down, wrong host or port): trying later may work.
        public static let targetUnreachable = Code(name: "targetUnreachable")
        /// The server answers but refuses: wrong password, no such database, no permission.
        public static let targetRefused = Code(name: "targetRefused")
        /// The target database already holds data; migrate copies into an empty one only.
        public static let targetNotEmpty = Code(name: "targetNotEmpty")
        /// The copy stopped part way (the server went away, a row it would not take).
        public static let copyFailed = Code(name: "copyFailed")
    }

    public var code: Code
    public var description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

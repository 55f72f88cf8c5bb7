import Foundation
import GRDB
import Logging
import PostgresNIO
import SondaConfig
import SondaCore

/// Opens the configured database, and tells the rest of the aggregator whether an error came
/// from it, without either knowing which database it is.
public enum StoreOpening {
    /// A SQLite file (locked against a second `serve`), or a PostgreSQL server for a `postgres://` URL. A server that cannot be
    /// reached is tried again with backoff (it may be starting too), logging each try; one that
    /// refuses the login or has no such database is an error at once. The store reports the faults
    /// of its upkeep to `faults`.
    public static func open(_ database: String, logger: Logger, faults: FaultLog = FaultLog()) async throws
        -> any AggregatorStore
    {
        guard PostgresURL.isURL(database) else {
            return try SQLiteStore(path: database, exclusive: true, faults: faults)
        }
        let url = try PostgresURL(database)
        var delay: Duration = .seconds(1)
        while true {
            do {
                return try await PostgresStore.open(url, logger: logger, faults: faults)
            } catch let error as PostgresStoreError where error.isUnreachable {
                logger.error("\(error); trying again in \(delay)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    /// Walks the audit chain without changing the database: no migration, no rollup folding.
    /// Notes the head hash at each count in `noting` (the counts checkpoints signed).
    public static func verifyAudit(
        _ database: String, noting: Set<Int> = [], logger: Logger = Logger(label: "sonda-aggregator")
    ) async throws -> AuditLog.Verification {
        guard PostgresURL.isURL(database) else {
            return try SQLiteStore.verifyAudit(readOnly: database, noting: noting)
        }
        let store = try await PostgresStore.open(try PostgresURL(database), migrate: false, logger: logger)
        defer { Task { await store.close() } }
        return try await store.verifyAudit(noting: noting)
    }

    /// An error of the database or of anything else, in one line without secrets (a PostgreSQL
    /// error is described without the URL it was given).
    static func describe(_ error: any Error) -> String {
        unavailability(error) ?? "\(error)"
    }

    /// Why the database failed a request, when `error` came from it (the API answers 503 then).
    public static func unavailability(_ error: any Error) -> String? {
        switch error {
        case let error as DatabaseError: "SQLite: \(error.message ?? "\(error.resultCode)")"
        case let error as PostgresStoreError: "PostgreSQL: \(error)"
        case is PSQLError, is PostgresTransactionError: "PostgreSQL: \(PostgresStoreError.reason(error))"
        default: nil
        }
    }
}

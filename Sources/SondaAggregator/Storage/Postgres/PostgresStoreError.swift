import NIOSSL
import PostgresNIO
import SondaConfig

/// Why the PostgreSQL store could not start, in one line without the password.
public enum PostgresStoreError: Error, CustomStringConvertible {
    case connect(PostgresURL, any Error)
    /// No connection came from the pool in time: the server is down or unreachable. Nothing ran.
    case unreachable(String)
    /// A use of a connection got no answer within its deadline, and its connection was closed:
    /// what it wrote may or may not have been committed (a batch sent again is idempotent).
    case noAnswer(Duration)
    /// The server closed the connection while a use of it waited for an answer the driver never
    /// gave: what it wrote may or may not have been committed.
    case closedUnderQuery
    /// The server or the driver failed a query.
    case failed(any Error)

    public var description: String {
        switch self {
        case .connect(let url, let error):
            "cannot open the database \(url.redacted): \(PostgresStoreError.reason(error))"
        case .unreachable(let reason):
            "the database is unreachable: \(reason)"
        case .noAnswer(let deadline):
            "the database gave no answer within \(deadline); the connection was closed"
        case .closedUnderQuery:
            "the database closed the connection before it answered"
        case .failed(let error):
            PostgresStoreError.reason(error)
        }
    }

    /// Whether the server could not be reached at all (rather than refusing the login or
    /// lacking the database), so trying again later may work. A server that is starting, shutting
    /// down or out of connection slots counts as unreachable; a certificate that fails
    /// verification does not (waiting will not fix it). So does a connection the server ends
    /// during the migration, after the first one got in: a server going down then, with or
    /// without a word, is one to wait for like a server that is not up yet.
    public var isUnreachable: Bool {
        guard case .connect(_, let error) = self else { return false }
        return Self.isConnectionLoss(error)
    }

    private static func isConnectionLoss(_ error: any Error) -> Bool {
        switch error as? PostgresStoreError {
        case .unreachable, .noAnswer, .closedUnderQuery: return true
        case .failed(let error): return isConnectionLoss(error)
        case .connect, nil: break
        }
        if let error = error as? PostgresTransactionError {
            let errors = [error.beginError, error.closureError, error.commitError]
            return errors.contains { $0.map(isConnectionLoss) == true }
        }
        if isCircuitBreakerTripped(error) { return true }
        guard let error = error as? PSQLError else { return false }
        if let state = error.serverInfo?[.sqlState] {
            // cannot_connect_now (starting up, shutting down, in recovery), too_many_connections,
            // admin_shutdown and crash_shutdown (a connection ended by a server going down)
            return ["57P03", "53300", "57P01", "57P02"].contains(state)
        }
        if error.underlying is NIOSSLError { return false }
        return [PSQLError.Code.connectionError, .serverClosedConnection, .uncleanShutdown].contains(error.code)
    }

    /// The server's message when there is one, else the client's.
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        if let error = error as? PostgresStoreError { return "\(error)" }
        if isCircuitBreakerTripped(error) {
            return "cannot connect to the server (the connection pool gave up after repeated failures)"
        }
        if let error = error as? PostgresTransactionError {
            return reason(error.closureError ?? error.beginError ?? error.commitError ?? error)
        }
        return "\(error)"
    }

    /// The pool gave up after repeated failures to connect (`ConnectionPoolError` of postgres-nio's
    /// pool module, which the store does not import), recognised by its name in one place.
    private static func isCircuitBreakerTripped(_ error: any Error) -> Bool {
        "\(error)".contains("connectionCreationCircuitBreakerTripped")
    }
}

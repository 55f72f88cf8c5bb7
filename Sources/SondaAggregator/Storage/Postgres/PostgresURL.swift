import Foundation
import NIOSSL
import Logging
import PostgresNIO

/// `database: postgres://user[:password]@host[:port]/name[?sslmode=…]`, as libpq reads it. The
/// password usually comes from `${env:…}` or `${file:…}` in the configuration. `sslmode` is one of
/// disable, prefer (the default, as libpq's), require (encrypted, server unverified) and
/// verify-full (encrypted, certificate and host name checked against the system trust store).
public struct PostgresURL: Sendable, Hashable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: String

    static let sslModes = ["disable", "prefer", "require", "verify-full"]

    /// Whether a `database:` value names a PostgreSQL server rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw PostgresURLError("'\(Self.redacted(text))' is not a URL like postgres://user@host:5432/sonda")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresURLError("'\(Self.redacted(text))' names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresURLError("'\(Self.redacted(text))' names no user (postgres://USER@host/db)")
        }
        let name = String(components.path.drop(while: { $0 == "/" }))
        guard !name.isEmpty, !name.contains("/") else {
            throw PostgresURLError("'\(Self.redacted(text))' names no database (postgres://user@host/DATABASE)")
        }
        self.user = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.host = host
        port = components.port ?? 5432
        database = name.removingPercentEncoding ?? name
        sslMode = "prefer"
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw PostgresURLError("unknown parameter '\(item.name)' in the database URL (only sslmode is read)")
            }
            guard let mode = item.value, Self.sslModes.contains(mode) else {
                throw PostgresURLError(
                    "sslmode must be one of \(Self.sslModes.joined(separator: ", ")), got '\(item.value ?? "")'")
            }
            sslMode = mode
        }
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    public var redacted: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(sslMode)"
    }

    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at,
            let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return text[..<text.index(after: colon)] + "***" + text[at...]
    }

    /// The TLS configuration `sslmode` asks for, or nil for none.
    var tlsConfiguration: TLSConfiguration? {
        switch sslMode {
        case "disable":
            return nil
        case "verify-full":
            return .makeClientConfiguration()
        default:
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            return unverified
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch (tlsConfiguration, sslMode) {
            case (nil, _): .disable
            case (let configuration?, "prefer"): .prefer(configuration)
            case (let configuration?, _): .require(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        // A dead peer is noticed by keepalive rather than by a hung query.
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 20
        return configuration
    }
}

extension PostgresURL {
    /// One connection, for checking at start that the server answers and takes the login: the
    /// pool only reports a failure to connect after its circuit breaker trips, a minute later.
    func connectOnce(logger: Logger) async throws {
        let tls: PostgresConnection.Configuration.TLS =
            switch (tlsConfiguration, sslMode) {
            case (nil, _): .disable
            case (let configuration?, "prefer"): .prefer(try NIOSSLContext(configuration: configuration))
            case (let configuration?, _): .require(try NIOSSLContext(configuration: configuration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try await connection.close()
    }
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

import Foundation

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

    /// `text` percent-encoded for any part of the URL: only RFC 3986's unreserved characters stay.
    public static func encodeComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public init(_ text: String) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw PostgresURLError(
                "'\(Self.redacted(text))' is not a URL like postgres://user@host:5432/sonda"
                    + " (write characters such as @ / : % # in a password percent-encoded, or take it from ${env:…})")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresURLError("'\(Self.redacted(text))' names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresURLError("'\(Self.redacted(text))' names no user (postgres://USER@host/db)")
        }
        let name = String(components.path.drop(while: { $0 == "/" }))  // decoded, as `user` is
        guard !name.isEmpty, !name.contains("/") else {
            throw PostgresURLError("'\(Self.redacted(text))' names no database (postgres://user@host/DATABASE)")
        }
        // `user` and `password` come back decoded already: decoding again would turn "%2541" into "A".
        self.user = user
        password = components.password
        self.host = host
        port = components.port ?? 5432
        database = name
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

    /// The URL as libpq would write it, password included.
    public var text: String {
        var components = URLComponents()
        components.scheme = "postgres"
        // Foundation leaves a '%' in a password as it is, so encode each part ourselves.
        components.percentEncodedUser = Self.encodeComponent(user)
        components.percentEncodedPassword = password.map(Self.encodeComponent)
        components.host = host
        components.port = port
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: sslMode)]
        return components.string ?? redacted
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
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

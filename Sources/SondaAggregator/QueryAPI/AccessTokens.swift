import Crypto
import Foundation
import Hummingbird

/// The configured bearer tokens and the role each grants: read tokens read, admin tokens read and
/// change silences. A presented token is compared with every configured one in constant time:
/// both are hashed first (so a token's length does not show) and every digest is compared byte by
/// byte to the end, matched or not.
public struct AccessTokens: Sendable {
    public enum Role: Int, Sendable, Comparable {
        case read, admin

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    private let digests: [(digest: [UInt8], role: Role)]
    /// Whether the read endpoints need a token (some read token is configured).
    public let readNeedsToken: Bool
    /// Whether admin tokens are configured; without them changes are taken from loopback only.
    public let hasAdminTokens: Bool

    public init(read: [String], admin: [String]) {
        digests =
            read.map { (Self.digest($0), Role.read) } + admin.map { (Self.digest($0), Role.admin) }
        readNeedsToken = !read.isEmpty
        hasAdminTokens = !admin.isEmpty
    }

    /// The highest role `token` grants, or nil when it is none of the configured tokens.
    public func role(of token: String) -> Role? {
        let presented = Self.digest(token)
        var found: Role?
        for entry in digests {
            var difference: UInt8 = 0
            for (a, b) in zip(entry.digest, presented) { difference |= a ^ b }
            if difference == 0 { found = max(found ?? entry.role, entry.role) }
        }
        return found
    }

    /// The token of an `Authorization: Bearer TOKEN` header, if the request has one.
    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst(7))
    }

    private static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }
}

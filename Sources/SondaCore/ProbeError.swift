/// Why a probe failed. The code is one of DESIGN.md's closed set; the message says what was seen.
public struct ProbeError: Error, Codable, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Codable, CaseIterable, Sendable {
        case dns
        case connectRefused = "connect_refused"
        case connectTimeout = "connect_timeout"
        case tlsHandshake = "tls_handshake"
        case tlsVersion = "tls_version"
        case tlsUntrusted = "tls_untrusted"
        case tlsHostname = "tls_hostname"
        case tlsExpired = "tls_expired"
        case tlsExpiring = "tls_expiring"
        case tlsPin = "tls_pin"
        case httpStatus = "http_status"
        case assertion
        case timeout
        case redirects
        case bodyTooLarge = "body_too_large"
        case `internal`
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// Why a probe failed. The code is one of DESIGN.md's closed set; the message says what was seen.
public struct ProbeError: Error, Codable, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Codable, CaseIterable, Sendable {
        case dns
        case connectRefused = "connect_refused"
        case connectTimeout = "connect_timeout"
        /// The proxy could not be reached: its name does not resolve, it refuses or drops the TCP
        /// connection, or the TLS handshake with an https:// proxy fails.
        case proxyUnreachable = "proxy_unreachable"
        /// The proxy wants credentials, or rejected the ones given (HTTP 407, SOCKS5 authentication).
        case proxyAuth = "proxy_auth"
        /// The proxy would not open a tunnel to the origin (a CONNECT answered with another error
        /// status, a SOCKS5 request denied or the origin unreachable from the proxy).
        case proxyRefused = "proxy_refused"
        case tlsHandshake = "tls_handshake"
        case tlsVersion = "tls_version"
        case tlsUntrusted = "tls_untrusted"
        case tlsHostname = "tls_hostname"
        case tlsExpired = "tls_expired"
        case tlsExpiring = "tls_expiring"
        case tlsPin = "tls_pin"
        /// The server refused the client certificate, or wanted one and got none (a TLS alert, or
        /// nginx's HTTP 400); or the agent could not load its own.
        case tlsClientCert = "tls_client_cert"
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

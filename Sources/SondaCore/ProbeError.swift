/// Why a probe failed: a code for programs and a message saying what was seen.
public struct ProbeError: Error, Codable, Hashable, Sendable, CustomStringConvertible {
    /// An error code: one of the contract's set (`known`) when this version's agent makes it, any
    /// well-formed code when read from another version's result. A newer agent may report a code
    /// this version has no name for; the aggregator stores it and counts it as a failure
    /// (docs/contract.md, "Compatibility").
    public struct Code: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        /// A code read from a result; nil unless it is well formed (`isWellFormed`).
        public init?(rawValue: String) {
            guard Self.isWellFormed(rawValue) else { return nil }
            self.rawValue = rawValue
        }

        private init(known: String) { rawValue = known }

        public static let dns = Code(known: "dns")
        public static let connectRefused = Code(known: "connect_refused")
        public static let connectTimeout = Code(known: "connect_timeout")
        /// The proxy could not be reached: its name does not resolve, it refuses or drops the TCP
        /// connection, or the TLS handshake with an https:// proxy fails.
        public static let proxyUnreachable = Code(known: "proxy_unreachable")
        /// The proxy wants credentials, or rejected the ones given (HTTP 407, SOCKS5 authentication).
        public static let proxyAuth = Code(known: "proxy_auth")
        /// The proxy would not open a tunnel to the origin (a CONNECT answered with another error
        /// status, a SOCKS5 request denied or the origin unreachable from the proxy).
        public static let proxyRefused = Code(known: "proxy_refused")
        public static let tlsHandshake = Code(known: "tls_handshake")
        public static let tlsVersion = Code(known: "tls_version")
        public static let tlsUntrusted = Code(known: "tls_untrusted")
        public static let tlsHostname = Code(known: "tls_hostname")
        public static let tlsExpired = Code(known: "tls_expired")
        public static let tlsExpiring = Code(known: "tls_expiring")
        public static let tlsPin = Code(known: "tls_pin")
        /// The server refused the client certificate, or wanted one and got none (a TLS alert, or
        /// nginx's HTTP 400); or the agent could not load its own.
        public static let tlsClientCert = Code(known: "tls_client_cert")
        public static let httpStatus = Code(known: "http_status")
        public static let assertion = Code(known: "assertion")
        public static let timeout = Code(known: "timeout")
        public static let redirects = Code(known: "redirects")
        public static let bodyTooLarge = Code(known: "body_too_large")
        /// A `tcp` check's reply did not contain its `expect`: other text, or the connection
        /// closed (or was reset) before it matched.
        public static let tcpExpect = Code(known: "tcp_expect")
        public static let `internal` = Code(known: "internal")

        /// The codes this version makes, in the contract's order (docs/contract.md).
        public static let known: [Code] = [
            .dns, .connectRefused, .connectTimeout, .proxyUnreachable, .proxyAuth, .proxyRefused, .tlsHandshake,
            .tlsVersion, .tlsUntrusted, .tlsHostname, .tlsExpired, .tlsExpiring, .tlsPin, .tlsClientCert, .httpStatus,
            .assertion, .timeout, .redirects, .bodyTooLarge, .tcpExpect, .internal,
        ]

        /// Whether this version has a name for the code (false for a newer agent's).
        public var isKnown: Bool { Self.known.contains(self) }

        /// The longest code accepted, in bytes.
        public static let maxLength = 64

        /// `^[a-z][a-z0-9_]*$`, at most `maxLength` bytes: the shape of every code, known or not.
        public static func isWellFormed(_ text: String) -> Bool {
            let bytes = text.utf8
            guard let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
                bytes.count <= maxLength
            else { return false }
            return bytes.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "_")
            }
        }

        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

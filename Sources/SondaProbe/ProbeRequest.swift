import Foundation
import SondaCore

/// What one probe does: an HTTP request, or a TLS handshake alone, with its limits and policy.
public struct ProbeRequest: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A full HTTP request on a fresh connection.
        case http
        /// TCP and TLS handshake only, for hosts that are not web APIs; no request is sent.
        case tlsHandshake
        /// A TCP connection (TLS when the URL is https://) that says and hears `exchange`, no HTTP:
        /// the URL is only libcurl's way to name host, port and TLS.
        case tcp(TCPExchange)
    }

    public var url: String
    public var kind: Kind
    public var method: String
    public var headers: [HTTPHeader]
    public var body: String?
    public var timeout: Duration
    public var connectTimeout: Duration?
    /// PEM trust store; nil means the system bundle.
    public var caFile: String?
    public var tlsPolicy: TLSPolicy
    /// Acceptable final status codes.
    public var expectedStatus: [ClosedRange<Int>]
    public var maxRedirects: Int
    public var maxBodyBytes: Int
    public var hashBody: Bool
    /// The emulated link the probe runs behind; nil or `none` is the agent's own link.
    public var profile: NetworkProfile?
    /// Proxy, IP family, HTTP version and host overrides.
    public var connection: ConnectionOptions
    /// The certificate to present when the server asks for one (mutual TLS).
    public var clientCertificate: ClientCertificate?

    public static let systemCAFile = "/etc/ssl/certs/ca-certificates.crt"

    public init(
        url: String, kind: Kind = .http, method: String = "GET", headers: [HTTPHeader] = [],
        body: String? = nil, timeout: Duration = .seconds(10), connectTimeout: Duration? = nil,
        caFile: String? = nil, tlsPolicy: TLSPolicy = TLSPolicy(), expectedStatus: [ClosedRange<Int>] = [200...399],
        maxRedirects: Int = 10, maxBodyBytes: Int = 10 << 20, hashBody: Bool = false,
        profile: NetworkProfile? = nil, connection: ConnectionOptions = ConnectionOptions(),
        clientCertificate: ClientCertificate? = nil
    ) {
        self.url = url
        self.kind = kind
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.caFile = caFile
        self.tlsPolicy = tlsPolicy
        self.expectedStatus = expectedStatus
        self.maxRedirects = maxRedirects
        self.maxBodyBytes = maxBodyBytes
        self.hashBody = hashBody
        self.profile = profile
        self.connection = connection
        self.clientCertificate = clientCertificate
    }

    /// Asked several times a probe: compares the scheme in place, without lowercasing the URL.
    public var usesTLS: Bool {
        var url = url
        return url.withUTF8 { bytes in
            let scheme: StaticString = "https://"
            guard bytes.count >= scheme.utf8CodeUnitCount else { return false }
            for index in 0..<scheme.utf8CodeUnitCount {
                let byte = bytes[index]
                let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
                if lowered != scheme.utf8Start[index] { return false }
            }
            return true
        }
    }
}

extension ProbeRequest.Kind {
    var isTCP: Bool {
        if case .tcp = self { true } else { false }
    }
}

public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses "Name: value" as curl's -H takes it; nil when there is no colon or no name.
    public init?(parsing line: String) {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(" ") else { return nil }
        self.init(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
}

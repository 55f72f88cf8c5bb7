/// How a check reaches its target: through which proxy, over which IP family, offering which HTTP
/// version, and with which names answered locally (curl's `--resolve`).
public struct ConnectionOptions: Sendable, Hashable {
    /// nil: not set here (a check then takes the agent's); a route with no proxy: direct.
    public var proxy: ProxyRoute?
    public var ipVersion: IPVersion
    public var httpVersion: HTTPVersion
    public var resolve: [HostOverride]

    public init(
        proxy: ProxyRoute? = nil, ipVersion: IPVersion = .auto, httpVersion: HTTPVersion = .auto,
        resolve: [HostOverride] = []
    ) {
        self.proxy = proxy
        self.ipVersion = ipVersion
        self.httpVersion = httpVersion
        self.resolve = resolve
    }

    /// The proxy a request to `url` goes through, nil when it goes direct (no proxy, or `no_proxy`
    /// names its host).
    public func proxy(for url: String) -> ProxyEndpoint? {
        proxy?.endpoint(for: url)
    }
}

/// `ip_version`: which address family the probe connects over. `auto` is libcurl's happy eyeballs.
public enum IPVersion: String, Sendable, Hashable, CaseIterable {
    case auto
    case v4 = "4"
    case v6 = "6"
}

/// `http_version`: what the probe offers. `auto` offers HTTP/2 and HTTP/1.1 by ALPN on https:// and
/// HTTP/1.1 on http://; `2` also speaks HTTP/2 to http:// URLs (prior knowledge, h2c); `1.1` offers
/// HTTP/1.1 only. What was negotiated is in the result's `http.version`.
public enum HTTPVersion: String, Sendable, Hashable, CaseIterable {
    case auto
    case http1_1 = "1.1"
    case http2 = "2"
}

/// One `resolve` entry: connections to `host:port` go to `addresses` (several: one family or
/// both, for `ip_version` to choose from), while the URL, and so the Host header and the TLS
/// server name, keep the host.
public struct HostOverride: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var addresses: [String]

    public init(host: String, port: Int, addresses: [String]) {
        self.host = host
        self.port = port
        self.addresses = addresses
    }

    /// libcurl's CURLOPT_RESOLVE form, `host:port:address[,address]` (IPv6 addresses in brackets).
    public var curlEntry: String {
        "\(host):\(port):" + addresses.map { $0.contains(":") ? "[\($0)]" : $0 }.joined(separator: ",")
    }

    /// Why `"host:port"` → `addresses` is not an override, or nil.
    public static func problem(hostAndPort: String, addresses: [String]) -> String? {
        guard let colon = hostAndPort.lastIndex(of: ":"), colon != hostAndPort.startIndex,
            let port = Int(hostAndPort[hostAndPort.index(after: colon)...]), (1...65535).contains(port)
        else { return "'\(hostAndPort)' must be host:port, e.g. api.clinic.example:443" }
        if hostAndPort[..<colon].contains(where: { ":/[]".contains($0) }) {
            return "'\(hostAndPort)' must be host:port, without brackets or a scheme"
        }
        if addresses.isEmpty { return "'\(hostAndPort)' needs an IP address" }
        if let bad = addresses.first(where: { !IPAddress.isValid($0.trimmingBrackets) }) {
            return "'\(bad)' is not an IPv4 or IPv6 address"
        }
        return nil
    }

    /// `"host:port"` and its addresses, as written in a config's `resolve:`; nil when malformed.
    public init?(hostAndPort: String, addresses: [String]) {
        guard Self.problem(hostAndPort: hostAndPort, addresses: addresses) == nil,
            let colon = hostAndPort.lastIndex(of: ":"), let port = Int(hostAndPort[hostAndPort.index(after: colon)...])
        else { return nil }
        self.init(host: String(hostAndPort[..<colon]), port: port, addresses: addresses.map(\.trimmingBrackets))
    }

    /// curl's `--resolve host:port:address[,address]`.
    public init?(curlForm text: String) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        self.init(
            hostAndPort: "\(parts[0]):\(parts[1])",
            addresses: parts[2].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }
}

extension String {
    var trimmingBrackets: String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}

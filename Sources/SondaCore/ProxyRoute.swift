import Foundation

/// Which proxy a check's requests take: one for http:// URLs and one for https:// URLs (the same
/// unless they come from the environment), and the hosts that go direct (`no_proxy`).
public struct ProxyRoute: Sendable, Hashable {
    public var http: ProxyEndpoint?
    public var https: ProxyEndpoint?
    /// curl's NOPROXY list: `*`, host names (a name also matches its subdomains), IP addresses and
    /// CIDR ranges.
    public var noProxy: [String]

    public init(http: ProxyEndpoint?, https: ProxyEndpoint?, noProxy: [String] = []) {
        self.http = http
        self.https = https
        self.noProxy = noProxy
    }

    /// The same proxy for every URL.
    public init(_ endpoint: ProxyEndpoint?, noProxy: [String] = []) {
        self.init(http: endpoint, https: endpoint, noProxy: noProxy)
    }

    /// No proxy at all (`proxy: none`, which overrides the agent's).
    public static let direct = ProxyRoute(nil)

    /// `proxy: env`: HTTPS_PROXY (or https_proxy) for https:// URLs, http_proxy for http:// (only
    /// lower case, as curl reads it), ALL_PROXY (or all_proxy) for either, and NO_PROXY (or
    /// no_proxy) unless `noProxy` is given. A variable without a scheme is an HTTP proxy.
    public init(environment: [String: String], noProxy: [String]? = nil) throws(ProxyEndpoint.ParseError) {
        func first(_ names: [String]) throws(ProxyEndpoint.ParseError) -> ProxyEndpoint? {
            guard let name = names.first(where: { environment[$0]?.isEmpty == false }), let value = environment[name]
            else { return nil }
            do {
                return try ProxyEndpoint(parsing: value.contains("://") ? value : "http://\(value)")
            } catch {
                throw ProxyEndpoint.ParseError(description: "\(name): \(error)")
            }
        }
        let all = ["ALL_PROXY", "all_proxy"]
        let listed = ["NO_PROXY", "no_proxy"].compactMap { environment[$0] }.first ?? ""
        self.init(
            http: try first(["http_proxy"] + all), https: try first(["HTTPS_PROXY", "https_proxy"] + all),
            noProxy: noProxy ?? listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// The proxy for `url`, run for every request: the URL is parsed only when `no_proxy` needs its
    /// host (URLComponents with its IDNA pass was about a sixth of the agent's own CPU per proxied probe).
    public func endpoint(for url: String) -> ProxyEndpoint? {
        guard let endpoint = Self.hasScheme(url, "http") ? http : https else { return nil }
        if !noProxy.isEmpty, let host = URLComponents(string: url)?.host, Self.bypasses(host: host, noProxy: noProxy) {
            return nil
        }
        return endpoint
    }

    /// Whether `url` begins with `scheme://`, in any case (`scheme` in lower case).
    public static func hasScheme(_ url: String, _ scheme: String) -> Bool {
        var bytes = url.utf8.makeIterator()
        for expected in scheme.utf8 {
            guard let byte = bytes.next(), (65...90).contains(byte) ? byte + 32 == expected : byte == expected
            else { return false }
        }
        return bytes.next() == UInt8(ascii: ":") && bytes.next() == UInt8(ascii: "/") && bytes.next() == UInt8(ascii: "/")
    }

    /// Whether `no_proxy` sends `host` direct, as curl matches it.
    public static func bypasses(host: String, noProxy: [String]) -> Bool {
        let host = host.trimmingBrackets.lowercased()
        for rawEntry in noProxy {
            let entry = rawEntry.trimmingCharacters(in: .whitespaces).lowercased()
            if entry.isEmpty { continue }
            if entry == "*" { return true }
            if let slash = entry.firstIndex(of: "/") {
                if IPAddress.contains(
                    network: String(entry[..<slash]), bits: Int(entry[entry.index(after: slash)...]), host)
                {
                    return true
                }
                continue
            }
            let name = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry.trimmingBrackets
            if host == name || host.hasSuffix("." + name) { return true }
        }
        return false
    }
}

/// One proxy: `http://`, `https://`, `socks5://` or `socks5h://` (the proxy resolves the origin's
/// name), host, port, and credentials. Its `url` never holds the credentials, so it can be shown.
public struct ProxyEndpoint: Sendable, Hashable {
    public enum Scheme: String, Sendable, CaseIterable {
        case http, https, socks5, socks5h

        /// Ports proxies of each kind usually listen on, when the URL names none.
        var defaultPort: Int {
            switch self {
            case .http: 3128
            case .https: 443
            case .socks5, .socks5h: 1080
            }
        }

        public var isSOCKS: Bool { self == .socks5 || self == .socks5h }
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?

    public init(scheme: Scheme, host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// `scheme://host:port`, without credentials.
    public var url: String {
        // utf8.contains, not Foundation's String.contains(String), which went through CFStringFind.
        let shownHost = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(shownHost):\(port)"
    }

    public struct ParseError: Error, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `scheme://[user[:password]@]host[:port]`; user and password are percent-decoded.
    public init(parsing text: String) throws(ParseError) {
        let schemes = Scheme.allCases.map { "\($0.rawValue)://" }.joined(separator: ", ")
        guard let separator = text.range(of: "://") else {
            throw ParseError(description: "proxy '\(Self.masked(text))' needs a scheme: one of \(schemes)")
        }
        let schemeText = text[..<separator.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw ParseError(
                description:
                    "unsupported proxy scheme '\(schemeText)://' in '\(Self.masked(text))'; use one of \(schemes)")
        }
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw ParseError(description: "proxy '\(Self.masked(text))' is not a URL like http://host:3128")
        }
        if !(components.path.isEmpty || components.path == "/") || components.query != nil {
            throw ParseError(description: "proxy '\(Self.masked(text))' must be scheme://host:port, without a path")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw ParseError(description: "proxy port \(port) is out of range")
        }
        self.init(
            scheme: scheme, host: host.trimmingBrackets, port: components.port ?? scheme.defaultPort,
            username: components.percentEncodedUser.map { $0.removingPercentEncoding ?? $0 },
            password: components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 })
    }

    /// `text` with any password replaced, for messages.
    public static func masked(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let start = text.range(of: "://")?.upperBound, start < at,
            let colon = text[start..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + SecretRedactor.mask + String(text[at...])
    }
}

/// Textual IP addresses, checked and compared without I/O.
enum IPAddress {
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func isValid(_ text: String) -> Bool { bytes(text) != nil }

    /// Whether `host`, an address, lies in `network/bits`.
    static func contains(network: String, bits: Int?, _ host: String) -> Bool {
        guard let network = bytes(network.trimmingBrackets), let address = bytes(host), network.count == address.count,
            let bits, (0...network.count * 8).contains(bits)
        else { return false }
        for index in 0..<network.count {
            let remaining = bits - index * 8
            if remaining <= 0 { break }
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if network[index] & mask != address[index] & mask { return false }
        }
        return true
    }
}

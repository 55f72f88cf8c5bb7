import Foundation
import SondaCore
import Yams

/// The keys that choose how a check connects: `proxy` and `no_proxy` (also at the agent's top
/// level, for every check that names no proxy of its own), `ip_version`, `http_version` and
/// `resolve`.
enum ConnectionReader {
    static let checkKeys = ["proxy", "no_proxy", "ip_version", "http_version", "resolve"]
    static let agentKeys = ["proxy", "no_proxy"]

    static func options(_ r: MappingReader, interpolation: inout Interpolation, file: ConfigFile) -> ConnectionOptions {
        var options = ConnectionOptions()
        options.proxy = proxyRoute(r, interpolation: &interpolation, file: file)
        if let (text, node) = r.scalar("ip_version", what: "auto, 4 or 6") {
            if let version = IPVersion(rawValue: text.lowercased()) {
                options.ipVersion = version
            } else {
                file.error("ip_version must be auto, 4 or 6, got '\(text)'", at: node)
            }
        }
        if let (text, node) = r.scalar("http_version", what: "\"1.1\", \"2\" or auto") {
            if let version = httpVersion(text) {
                options.httpVersion = version
            } else {
                file.error("http_version must be \"1.1\", \"2\" or auto, got '\(text)'\(unsupported(text))", at: node)
            }
        }
        for pair in r.pairs("resolve") ?? [] {
            let items: [Node] = pair.value.sequence.map(Array.init) ?? [pair.value]
            let addresses = items.compactMap { $0.scalar?.string }
            guard addresses.count == items.count else {
                file.error("resolve '\(pair.key)' must map to an IP address or a list of them", at: pair.value)
                continue
            }
            if let problem = HostOverride.problem(hostAndPort: pair.key, addresses: addresses) {
                let node = problem.hasPrefix("'\(pair.key)'") ? pair.keyNode : pair.value
                file.error("resolve: \(problem)", at: node)
            } else if let override = HostOverride(hostAndPort: pair.key, addresses: addresses) {
                options.resolve.append(override)
            }
        }
        return options
    }

    /// "1.1", "2" (or 2.0), auto.
    static func httpVersion(_ text: String) -> HTTPVersion? {
        switch text.lowercased() {
        case "2.0", "http/2", "h2": .http2
        case "http/1.1": .http1_1
        default: HTTPVersion(rawValue: text.lowercased())
        }
    }

    private static func unsupported(_ text: String) -> String {
        text.hasPrefix("3") ? " (HTTP/3 is not supported: libcurl here has no QUIC)" : ""
    }

    /// `proxy` (a URL, `env` or `none`) with `no_proxy`; nil when there is no `proxy` key.
    static func proxyRoute(_ r: MappingReader, interpolation: inout Interpolation, file: ConfigFile) -> ProxyRoute? {
        let noProxy = r.value("no_proxy").map { _ in noProxyList(r) }
        guard let (raw, node) = r.scalar("proxy", what: "a proxy URL, env or none") else {
            if r.has("no_proxy") {
                file.error(
                    "'no_proxy' goes beside 'proxy' (to send this check direct, write proxy: none)",
                    at: r.keyNode("no_proxy"))
            }
            return nil
        }
        switch raw.lowercased() {
        case "none", "direct", "":
            return .direct
        case "env", "environment":
            return fromEnvironment(
                interpolation.environment, noProxy: noProxy, interpolation: &interpolation, at: node, in: file)
        default:
            guard let endpoint = endpoint(raw, interpolation: &interpolation, at: node, in: file) else { return nil }
            return ProxyRoute(endpoint, noProxy: noProxy ?? [])
        }
    }

    /// A list, or curl's comma-separated string.
    private static func noProxyList(_ r: MappingReader) -> [String] {
        (r.strings("no_proxy") ?? []).flatMap { text, _ in
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// Resolves `${env:…}`/`${file:…}` (a reference in the user:password part is percent-encoded,
    /// as a URL needs) and parses; the password becomes a secret, however it was written.
    private static func endpoint(
        _ raw: String, interpolation: inout Interpolation, at node: Node, in file: ConfigFile
    ) -> ProxyEndpoint? {
        var text = raw
        if let start = raw.range(of: "://")?.upperBound, let at = raw[start...].lastIndex(of: "@") {
            let userinfo = interpolation.resolve(
                String(raw[start..<at]), at: node, in: file, encoding: PostgresURL.encodeComponent)
            let host = interpolation.resolve(String(raw[at...]), at: node, in: file, secret: false)
            text = String(raw[..<start]) + userinfo + host
        } else {
            text = interpolation.resolve(raw, at: node, in: file, secret: false)
        }
        do {
            let endpoint = try ProxyEndpoint(parsing: text)
            if let password = endpoint.password { interpolation.redactor.add(password) }
            return endpoint
        } catch {
            file.error("\(error)", at: node)
            return nil
        }
    }

    /// `proxy: env`: the environment's proxies; their passwords become secrets.
    private static func fromEnvironment(
        _ environment: [String: String], noProxy: [String]?, interpolation: inout Interpolation, at node: Node,
        in file: ConfigFile
    ) -> ProxyRoute? {
        do {
            let route = try ProxyRoute(environment: environment, noProxy: noProxy)
            for password in [route.http?.password, route.https?.password].compactMap({ $0 }) {
                interpolation.redactor.add(password)
            }
            return route
        } catch {
            file.error("proxy: env: \(error)", at: node)
            return nil
        }
    }
}

import Foundation
import SondaCore
import SondaProbe
import TestSupport
import Testing

/// Probes through real proxies (tinyproxy, microsocks) to the nginx lab: the error code of each
/// way a proxy fails, the `proxy` phase between `connect` and `tls`, and what the result says of
/// the proxy.
@Suite struct ProxyProbeTests {
    static let pool = ProbeWorkerPool(workers: 2)

    enum Proxy: String, Sendable {
        case open, authenticated, refusing, socks, socksAuthenticated, https, closed
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var proxy: Proxy
        var scheme = "http"
        var credentials: Credentials = .none
        var host = "tls13"
        var path = "/"
        var code: ProbeError.Code?
        /// Phases that must be present; the others must be absent.
        var phases: Set<PhaseTimings.Phase>
        var testDescription: String {
            "\(scheme) \(proxy) \(credentials) → \(host)\(path): \(code?.rawValue ?? "ok")"
        }
    }

    enum Credentials: Sendable { case none, right, wrong }

    static let all: Set<PhaseTimings.Phase> = [.dns, .connect, .proxy, .tls, .send, .wait, .receive, .total]
    static let untilProxy: Set<PhaseTimings.Phase> = [.dns, .connect, .proxy, .total]

    static let cases: [Case] = [
        Case(proxy: .open, code: nil, phases: all),
        Case(proxy: .open, host: "http", code: nil, phases: all),
        Case(proxy: .open, host: "h2", code: nil, phases: all),
        // Each hop on a connection and a tunnel of its own (ProxyTunnel turns libcurl's lines
        // back on for the next one).
        Case(proxy: .open, path: "/redirect/3", code: nil, phases: all),
        Case(proxy: .open, host: "expired", code: .tlsExpired, phases: [.dns, .connect, .proxy, .tls, .total]),
        Case(proxy: .authenticated, code: .proxyAuth, phases: untilProxy),
        Case(proxy: .authenticated, credentials: .wrong, code: .proxyAuth, phases: untilProxy),
        Case(proxy: .authenticated, credentials: .right, code: nil, phases: all),
        Case(proxy: .authenticated, host: "http", code: .proxyAuth, phases: all),
        Case(proxy: .refusing, code: .proxyRefused, phases: untilProxy),
        Case(proxy: .closed, code: .proxyUnreachable, phases: [.dns, .connect, .total]),
        Case(proxy: .https, scheme: "https", code: nil, phases: all),
        Case(
            proxy: .https, scheme: "https", host: "expired", code: .tlsExpired,
            phases: [.dns, .connect, .proxy, .tls, .total]),
        Case(proxy: .socks, scheme: "socks5h", code: nil, phases: all),
        Case(proxy: .socks, scheme: "socks5h", host: "http", code: nil, phases: all),
        Case(proxy: .socks, scheme: "socks5h", host: "closed", code: .proxyRefused, phases: untilProxy),
        Case(proxy: .socksAuthenticated, scheme: "socks5h", credentials: .wrong, code: .proxyAuth, phases: untilProxy),
        Case(proxy: .socksAuthenticated, scheme: "socks5h", credentials: .right, code: nil, phases: all),
    ]

    static func port(_ proxy: Proxy) throws -> Int {
        let lab = try ProxyLab.shared()
        switch proxy {
        case .open: return lab.open
        case .authenticated: return lab.authenticated
        case .refusing: return lab.refusing
        case .socks: return lab.socks
        case .socksAuthenticated: return lab.socksAuthenticated
        case .https: return lab.https
        case .closed: return try refusedLoopbackPort()
        }
    }

    static func endpoint(_ c: Case) throws -> ProxyEndpoint {
        var endpoint = try ProxyEndpoint(parsing: ProxyLab.url(c.scheme, port: try port(c.proxy)))
        switch c.credentials {
        case .none: break
        case .right: (endpoint.username, endpoint.password) = (ProxyLab.user, ProxyLab.password)
        case .wrong: (endpoint.username, endpoint.password) = (ProxyLab.user, "wrong-password")
        }
        return endpoint
    }

    @Test(arguments: cases)
    func errorCodePhasesAndProxyReport(_ c: Case) async throws {
        let lab = try TLSLab.shared()
        let url = c.host == "closed" ? "https://localhost:\(try refusedLoopbackPort())/" : lab.url(c.host, c.path)
        let endpoint = try Self.endpoint(c)
        let result = await Self.pool.probe(
            ProbeRequest(
                url: url, caFile: lab.ca, tlsPolicy: TLSPolicy(minVersion: "TLSv1.2"),
                connection: ConnectionOptions(proxy: ProxyRoute(endpoint))))
        #expect(result.error?.code == c.code, "\(result.error?.message ?? "no error")")
        let present = Set(PhaseTimings.Phase.allCases.filter { result.phases[$0] != nil })
        #expect(present == c.phases)
        let sum = PhaseTimings.Phase.allCases.filter { $0 != .total }.compactMap { result.phases[$0] }.reduce(0, +)
        #expect(abs(sum - result.phases.total) < 0.01, "phases add up to the total")

        let proxy = try #require(result.proxy)
        #expect(proxy.url == "\(c.scheme)://127.0.0.1:\(endpoint.port)", "the URL shown has no credentials")
        #expect(proxy.ip == (c.proxy == .closed ? nil : "127.0.0.1"))
        #expect(result.http?.remoteIP == nil, "the origin's address is the proxy's to know")
        let message = result.error?.message ?? ""
        #expect(!message.contains(ProxyLab.password) && !message.contains("wrong-password"))
        if c.scheme.hasPrefix("http") && c.host != "http" && c.code != .proxyUnreachable {
            #expect(proxy.connectStatus != nil, "the proxy answered the CONNECT")
        }
        if c.code == nil && c.host != "http" {
            #expect(proxy.connectStatus == (c.scheme.hasPrefix("http") ? 200 : nil))
            #expect(try #require(result.phases.proxy) > 0, "a tunnel takes time to open")
            #expect(result.tls?.leaf?.subject == "CN=localhost", "the TLS report is the origin's")
        }
        if c.host == "http" && c.scheme == "http" {
            #expect(result.phases.proxy == 0, "an HTTP proxy fetches http:// itself: no tunnel")
        }
        if c.path.hasPrefix("/redirect/") { #expect(result.http?.redirects == 3) }
        if c.host == "h2" { #expect(result.http?.version == "2", "ALPN runs with the origin, through the tunnel") }
    }

    /// The proxy's certificate is checked against the same trust store as the origin's; one it
    /// does not trust makes the proxy unreachable, not the origin untrusted.
    @Test func anUntrustedHTTPSProxyIsUnreachable() async throws {
        let (lab, proxies) = (try TLSLab.shared(), try ProxyLab.shared())
        let proxy = ProxyRoute(try ProxyEndpoint(parsing: ProxyLab.url("https", port: proxies.https)))
        let result = await Self.pool.probe(
            ProbeRequest(url: lab.url("http"), connection: ConnectionOptions(proxy: proxy)))
        #expect(result.error?.code == .proxyUnreachable, "\(result.error?.message ?? "no error")")
        #expect(result.tls == nil)
    }

    /// An HTTPS_PROXY in the environment is not used: only a configured proxy is.
    @Test func theEnvironmentsProxyIsIgnored() async throws {
        let lab = try TLSLab.shared()
        let closed = try refusedLoopbackPort()
        let route = try ProxyRoute(environment: ["HTTPS_PROXY": "http://127.0.0.1:\(closed)"])
        let direct = await Self.pool.probe(ProbeRequest(url: lab.url("tls13"), caFile: lab.ca))
        #expect(direct.ok && direct.proxy == nil)
        let viaEnvironment = await Self.pool.probe(
            ProbeRequest(url: lab.url("tls13"), caFile: lab.ca, connection: ConnectionOptions(proxy: route)))
        #expect(viaEnvironment.error?.code == .proxyUnreachable, "proxy: env takes HTTPS_PROXY")
    }
}

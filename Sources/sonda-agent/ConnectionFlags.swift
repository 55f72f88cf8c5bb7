import ArgumentParser
import Foundation
import SondaCore

/// `probe`'s flags for how to connect, with curl's names: they override a `--check`'s own settings.
struct ConnectionFlags: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Proxy: an http://, https://, socks5:// or socks5h:// URL (user:password@ optional), env "
                + "(HTTPS_PROXY and the like, otherwise ignored) or none.",
            valueName: "url"))
    var proxy: String?

    @Option(
        name: .customLong("noproxy"),
        help: ArgumentHelp("Hosts to reach without the proxy, comma-separated.", valueName: "hosts"))
    var noProxy: String?

    @Flag(name: .customLong("ipv4"), help: "Connect over IPv4 only.")
    var ipv4 = false

    @Flag(name: .customLong("ipv6"), help: "Connect over IPv6 only.")
    var ipv6 = false

    @Flag(name: .customLong("http1.1"), help: "Offer HTTP/1.1 only.")
    var http1 = false

    @Flag(name: .customLong("http2"), help: "Offer HTTP/2 (ALPN over TLS, prior knowledge in the clear).")
    var http2 = false

    @Option(
        name: .customLong("resolve"),
        help: ArgumentHelp(
            "Connect to ADDR for HOST:PORT, keeping the name for SNI and Host (repeatable).",
            valueName: "host:port:addr"))
    var resolve: [String] = []

    /// `options` with what the flags say; a ValidationError (exit 64) for a malformed value.
    func applied(to options: ConnectionOptions) throws -> ConnectionOptions {
        var options = options
        if ipv4 && ipv6 { throw ValidationError("give --ipv4 or --ipv6, not both") }
        if http1 && http2 { throw ValidationError("give --http1.1 or --http2, not both") }
        if ipv4 { options.ipVersion = .v4 }
        if ipv6 { options.ipVersion = .v6 }
        if http1 { options.httpVersion = .http1_1 }
        if http2 { options.httpVersion = .http2 }
        if !resolve.isEmpty {
            options.resolve = try resolve.map { entry in
                guard let override = HostOverride(curlForm: entry) else {
                    throw ValidationError("--resolve must be HOST:PORT:ADDR[,ADDR] with IP addresses, got '\(entry)'")
                }
                return override
            }
        }
        let noProxyList = noProxy.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        switch proxy?.lowercased() {
        case nil:
            if noProxy != nil { throw ValidationError("--noproxy goes with --proxy") }
        case "none":
            options.proxy = .direct
        case "env":
            do {
                options.proxy = try ProxyRoute(environment: ProcessInfo.processInfo.environment, noProxy: noProxyList)
            } catch {
                throw ValidationError("--proxy env: \(error)")
            }
        default:
            do {
                options.proxy = ProxyRoute(try ProxyEndpoint(parsing: proxy ?? ""), noProxy: noProxyList ?? [])
            } catch {
                throw ValidationError("--proxy: \(error)")
            }
        }
        return options
    }
}

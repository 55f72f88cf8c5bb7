import CCurl
import Foundation
import SondaCore

/// The proxy side of one transfer: sets libcurl up to use the proxy, and times its tunnels. The
/// TCP connection to the proxy is up at libcurl's "Connected to" line (its debug callback, on only
/// for proxied probes); a tunnel is open when the origin's TLS handshake begins (https://) or the
/// request is about to go (http://). libcurl's own CONNECT counter cannot say this: it is 0 when a
/// tunnel fails, and its APPCONNECT and PRETRANSFER include the tunnel.
///
/// libcurl's lines cost about 4 % of a proxied probe's CPU (a C loop through tinyproxy, with and
/// without CURLOPT_VERBOSE), most of it its trace of the TLS handshake and the certificate lines.
/// So they are off from "Connected to" until the request goes, and on again after it only if a
/// redirect may open another connection (CURLOPT_VERBOSE is a flag libcurl reads as it goes).
///
/// Lives as long as its transfer; its callbacks run on the probe's worker thread.
final class ProxyTunnel {
    let endpoint: ProxyEndpoint
    /// CONNECT or SOCKS; false for an HTTP proxy asked for an http:// URL, which it fetches itself.
    let tunnels: Bool
    /// Monotonic nanoseconds at which the first TCP connection to the proxy was up.
    private(set) var firstConnectedAt: UInt64?
    /// The connection whose tunnel is opening, since when it is up.
    private var connectedAt: UInt64?
    /// Whether the TLS handshake with an https:// proxy has begun on the current connection.
    private var proxyHandshakeBegun = false
    /// The time tunnels took to open, summed over the connections (a redirect opens another).
    private(set) var openingNanoseconds: UInt64 = 0
    private(set) var opened = false
    private var handle: UnsafeMutableRawPointer?
    private var followsRedirects = false

    /// - Parameter alwaysTunnels: a tcp check, which an HTTP proxy must tunnel whatever the scheme.
    init(endpoint: ProxyEndpoint, url: String, alwaysTunnels: Bool = false) {
        self.endpoint = endpoint
        tunnels = alwaysTunnels || endpoint.scheme.isSOCKS || ProxyRoute.hasScheme(url, "https")
    }

    /// After `curl_easy_reset`, with the transfer's other options.
    func install(on easy: CurlEasy, caFile: String, followsRedirects: Bool, userData: UnsafeMutableRawPointer) {
        handle = easy.handle
        self.followsRedirects = followsRedirects
        easy.set(CURLOPT_PROXY, endpoint.url)
        // Credentials go apart from the URL, so libcurl never has them in a string it might print.
        if let username = endpoint.username {
            easy.set(CURLOPT_PROXYUSERNAME, username)
            easy.set(CURLOPT_PROXYPASSWORD, endpoint.password ?? "")
        }
        if endpoint.scheme == .https {
            easy.set(CURLOPT_PROXY_CAINFO, caFile)
            easy.set(CURLOPT_PROXY_CAPATH, nil)
        }
        easy.set(CURLOPT_VERBOSE, true)
        sonda_setopt_debug_function(easy.handle, debugCallback)
        easy.set(CURLOPT_DEBUGDATA, pointer: userData)
    }

    /// libcurl's informational lines; only "Connected to" matters.
    func note(_ text: UnsafeRawBufferPointer) {
        guard connectedAt == nil, text.starts(with: Self.connectedLine) else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        connectedAt = now
        proxyHandshakeBegun = false
        if firstConnectedAt == nil { firstConnectedAt = now }
        if let handle { sonda_setopt_long(handle, CURLOPT_VERBOSE, 0) }
    }

    private static let connectedLine = Array("Connected to ".utf8)

    /// At a TLS context libcurl is about to use: true when it is for the handshake with the proxy
    /// itself (an https:// proxy does one on each connection, before the origin's).
    func isProxyHandshake() -> Bool {
        guard endpoint.scheme == .https, !proxyHandshakeBegun else { return false }
        proxyHandshakeBegun = true
        return true
    }

    /// The origin's handshake or request begins: the current connection's tunnel is open.
    func tunnelOpened() {
        guard let connectedAt else { return }
        if tunnels { openingNanoseconds += DispatchTime.now().uptimeNanoseconds &- connectedAt }
        self.connectedAt = nil
        opened = true
    }

    /// The request is about to go on a connection that is up (libcurl's PREREQFUNCTION).
    func requestGoes() {
        tunnelOpened()
        if followsRedirects, let handle { sonda_setopt_long(handle, CURLOPT_VERBOSE, 1) }
    }

    /// The proxy's share of the probe, for the split into phases. A transfer that got past the
    /// proxy without this having seen the connection (a libcurl that words its lines otherwise)
    /// leaves the tunnel inside libcurl's own counters.
    func time(counters: PhaseTimings.Counters) -> PhaseTimings.ProxyTime {
        if opened { return .tunnelled(Int64(openingNanoseconds / 1000)) }
        return counters.appConnect > 0 || counters.preTransfer > 0 ? .tunnelled(0) : .notOpened
    }
}

let debugCallback:
    @convention(c) (
        UnsafeMutableRawPointer?, curl_infotype, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?
    )
        -> Int32 = { _, type, data, size, userData in
            guard type == CURLINFO_TEXT, let data, let userData else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(userData).takeUnretainedValue()
            transfer.proxy?.note(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }

import CCurl
import Foundation
import SondaCore

/// Puts one probe behind an emulated link through libcurl's callbacks, so each phase pays what the
/// link would charge it: the resolver-start callback waits one RTT (inside `dns`; a cached name
/// pays nothing, nor does an address, for which libcurl calls it too but looks nothing up), the
/// opensocket callback connects upstream for real, waits until one emulated RTT has passed, and
/// points libcurl at a `LinkRelay` on loopback (inside `connect`); the relay delays, paces and
/// slow-starts every byte after that.
///
/// libcurl 7.88 ignores CURL_SOCKOPT_ALREADY_CONNECTED, so the relay is reached by rewriting the
/// address in the opensocket callback rather than by handing over a connected socket.
///
/// Lives as long as its transfer; its callbacks run on the probe's worker thread.
final class LinkShaper {
    let profile: NetworkProfile
    let connectTimeout: Duration
    /// The real server's address of the last connection; libcurl only sees the relay's.
    private(set) var upstreamIP: String?
    /// The host libcurl resolves first (the proxy's, or the URL's without one) is an address, so
    /// its resolver-start callback before the first connection is not a lookup. Later ones are: a
    /// SOCKS5 proxy's origin or a redirect's host (an address there would be charged a round trip).
    private var skipsFirstLookup: Bool

    init(profile: NetworkProfile, connectTimeout: Duration, firstLookupIsAddress: Bool = false) {
        self.profile = profile
        self.connectTimeout = connectTimeout
        skipsFirstLookup = firstLookupIsAddress
    }

    /// Whether a URL's host is an IPv4 or IPv6 address (brackets or not) rather than a name.
    static func isAddress(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }

    /// Whether a profile changes anything; `none` runs with no callbacks and no relay.
    static func shapes(_ profile: NetworkProfile?) -> Bool {
        guard let profile else { return false }
        return profile.rttMilliseconds > 0 || profile.downlinkKilobitsPerSecond > 0
            || profile.uplinkKilobitsPerSecond > 0 || profile.lossPercent > 0
    }

    func install(on easy: CurlEasy) {
        let pointer = Unmanaged.passUnretained(self).toOpaque()
        sonda_setopt_resolver_start_function(easy.handle, resolverStartCallback)
        easy.set(CURLOPT_RESOLVER_START_DATA, pointer: pointer)
        sonda_setopt_opensocket_function(easy.handle, openSocketCallback)
        easy.set(CURLOPT_OPENSOCKETDATA, pointer: pointer)
    }

    private var rttNanoseconds: UInt64 { UInt64(max(profile.rttMilliseconds, 0) * 1e6) }

    func resolverStarting() {
        if skipsFirstLookup {
            skipsFirstLookup = false
            return
        }
        sleep(nanoseconds: rttNanoseconds)
    }

    /// Connects upstream for real, waits out the rest of one emulated round trip, starts a relay
    /// and points libcurl at it: its own connect then only crosses loopback, so `connect` is the
    /// real handshake plus the emulated one. When upstream cannot be reached, libcurl gets a plain
    /// socket and fails on its own, with the error it would report unshaped.
    func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        skipsFirstLookup = false
        let started = DispatchTime.now().uptimeNanoseconds
        let timeoutMilliseconds = Int32(clamping: Int(connectTimeout.milliseconds.rounded(.up)))
        let upstream = sonda_connect_upstream(address, timeoutMilliseconds)
        guard upstream >= 0 else { return sonda_plain_socket(address) }
        var port: Int32 = 0
        let listener = sonda_loopback_listener(&port)
        guard listener >= 0 else {
            close(upstream)
            return sonda_plain_socket(address)
        }
        var ip = [CChar](repeating: 0, count: 64)
        sonda_sockaddr_ip(address, &ip, 64)
        upstreamIP = ip.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let elapsed = DispatchTime.now().uptimeNanoseconds &- started
        if elapsed < rttNanoseconds { sleep(nanoseconds: rttNanoseconds - elapsed) }
        LinkRelay(listener: listener, upstream: upstream, profile: profile, acceptTimeout: connectTimeout).start()
        sonda_point_at_loopback(address, port)
        return sonda_plain_socket(address)
    }

    private func sleep(nanoseconds: UInt64) {
        guard nanoseconds > 0 else { return }
        var left = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var rest = timespec()
        while nanosleep(&left, &rest) != 0 && errno == EINTR { left = rest }
    }
}

let resolverStartCallback:
    @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
        -> Int32 = { _, _, userData in
            guard let userData else { return 0 }
            Unmanaged<LinkShaper>.fromOpaque(userData).takeUnretainedValue().resolverStarting()
            return 0
        }

let openSocketCallback:
    @convention(c) (UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?)
        -> curl_socket_t = { userData, purpose, address in
            guard let userData, let address else { return CURL_SOCKET_BAD }
            let shaper = Unmanaged<LinkShaper>.fromOpaque(userData).takeUnretainedValue()
            guard purpose == CURLSOCKTYPE_IPCXN, address.pointee.socktype == Int32(SOCK_STREAM.rawValue) else {
                return sonda_plain_socket(address)
            }
            return shaper.openSocket(address)
        }

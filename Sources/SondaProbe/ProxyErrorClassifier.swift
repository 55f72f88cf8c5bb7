import CCurl
import SondaCore

/// The failures of a proxied transfer that belong to the proxy: it cannot be reached, wants other
/// credentials, or will not open the tunnel. Everything after the tunnel is the origin's, and
/// `ProbeErrorClassifier` judges it as without a proxy.
enum ProxyErrorClassifier {
    static func classify(_ code: CURLcode, transfer: Transfer, curl: String) -> ProbeError? {
        guard let tunnel = transfer.proxy, !tunnel.opened else { return nil }
        let proxy = tunnel.endpoint.url
        let connectStatus = transfer.easy.long(CURLINFO_HTTP_CONNECTCODE)
        if connectStatus >= 300 {
            if connectStatus == 407 || connectStatus == 401 {
                return ProbeError(
                    .proxyAuth,
                    "proxy \(proxy) answered CONNECT with \(connectStatus): "
                        + (tunnel.endpoint.username == nil ? "it wants credentials" : "it rejected the credentials"))
            }
            return ProbeError(.proxyRefused, "proxy \(proxy) answered CONNECT with \(connectStatus): \(curl)")
        }
        let connected = tunnel.firstConnectedAt != nil
        switch code {
        case CURLE_PROXY:
            return socksFailure(transfer.easy.long(CURLINFO_PROXY_ERROR), proxy: proxy, curl: curl)
        case CURLE_COULDNT_RESOLVE_PROXY:
            return ProbeError(.proxyUnreachable, "cannot resolve the proxy's host: \(curl)")
        case CURLE_COULDNT_CONNECT where !connected:
            return ProbeError(.proxyUnreachable, "cannot connect to proxy \(proxy): \(curl)")
        case CURLE_OPERATION_TIMEDOUT where !connected:
            return ProbeError(.proxyUnreachable, "no connection to proxy \(proxy) in time: \(curl)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            return ProbeError(.proxyUnreachable, "TLS with proxy \(proxy) failed: \(curl)")
        case CURLE_OK, CURLE_OPERATION_TIMEDOUT, CURLE_ABORTED_BY_CALLBACK:
            return nil
        default:
            // Connected to the proxy, and the tunnel never opened: the proxy dropped it.
            return connected ? ProbeError(.proxyRefused, "proxy \(proxy) closed the tunnel: \(curl)") : nil
        }
    }

    /// A 407 from an HTTP proxy that fetched an http:// URL itself (no tunnel).
    static func forwardedAuthFailure(_ transfer: Transfer) -> ProbeError {
        let proxy = transfer.proxy?.endpoint
        return ProbeError(
            .proxyAuth,
            "proxy \(proxy?.url ?? "") answered 407: "
                + (proxy?.username == nil ? "it wants credentials" : "it rejected the credentials"))
    }

    private static func socksFailure(_ reason: Int, proxy: String, curl: String) -> ProbeError {
        let authentication = [
            CURLPX_NO_AUTH, CURLPX_USER_REJECTED, CURLPX_RECV_AUTH, CURLPX_SEND_AUTH,
            CURLPX_LONG_USER, CURLPX_LONG_PASSWD,
        ].map { Int($0.rawValue) }
        if authentication.contains(reason) {
            return ProbeError(.proxyAuth, "SOCKS proxy \(proxy) did not accept the credentials: \(curl)")
        }
        return ProbeError(.proxyRefused, "SOCKS proxy \(proxy) refused the connection: \(curl)")
    }
}

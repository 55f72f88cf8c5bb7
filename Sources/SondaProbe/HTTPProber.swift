import CCurl
import Foundation
import SondaCore

/// Runs one probe on a worker's easy handle: a fresh connection, a full TLS handshake, one request
/// (or the handshake alone), and turns what libcurl measured into a `ProbeResult`.
///
/// Must be called on the thread that owns `easy`; it blocks for up to the request's timeout.
enum HTTPProber {
    static let userAgent = "sonda-agent/\(SondaVersion.current)"

    /// - Parameters:
    ///   - capture: what a flow step keeps of the response (headers, body); nil keeps nothing.
    ///   - sharesCookies: a flow step: use the handle's cookie jar. Any other probe starts with an
    ///     empty jar.
    static func run(
        _ request: ProbeRequest, on easy: CurlEasy, capture: ResponseCapture? = nil, sharesCookies: Bool = false
    ) -> ProbeResult {
        let transfer = Transfer(easy: easy, request: request, capture: capture)
        configure(easy, for: transfer)
        if sharesCookies {
            easy.useCookieJar()
        } else {
            easy.clearCookies()
        }
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if let headerList { sonda_setopt_slist(easy.handle, CURLOPT_HTTPHEADER, headerList) }
        defer { curl_slist_free_all(headerList) }

        let startedAt = WallClock.now
        let startedMonotonic = DispatchTime.now().uptimeNanoseconds
        let code = withExtendedLifetime(transfer) { easy.perform() }
        return result(of: transfer, code: code, startedAt: startedAt, startedMonotonic: startedMonotonic)
    }

    /// Every option of a fresh transfer but the request's headers (a tcp check's too: it adds CONNECT_ONLY).
    static func configure(_ easy: CurlEasy, for transfer: Transfer) {
        let request = transfer.request
        easy.reset()
        easy.set(CURLOPT_URL, request.url)
        easy.set(CURLOPT_NOSIGNAL, true)
        // A fresh connection and a full handshake every time: no keep-alive, no session resumption.
        easy.set(CURLOPT_FRESH_CONNECT, true)
        easy.set(CURLOPT_FORBID_REUSE, true)
        easy.set(CURLOPT_SSL_SESSIONID_CACHE, false)
        easy.set(CURLOPT_TIMEOUT_MS, max(Int(request.timeout.milliseconds.rounded()), 1))
        let connectTimeout = request.connectTimeout ?? request.timeout
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, max(Int(connectTimeout.milliseconds.rounded()), 1))
        easy.set(CURLOPT_FOLLOWLOCATION, request.maxRedirects > 0)
        easy.set(CURLOPT_MAXREDIRS, request.maxRedirects)
        easy.set(CURLOPT_USERAGENT, userAgent)
        // CAINFO alone, CAPATH cleared: libcurl then caches the parsed store on the handle
        // (CURLOPT_CA_CACHE_TIMEOUT) instead of parsing the bundle again for every connection.
        easy.set(CURLOPT_CAINFO, request.caFile ?? ProbeRequest.systemCAFile)
        easy.set(CURLOPT_CAPATH, nil)
        easy.set(CURLOPT_SSL_VERIFYPEER, true)
        easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        let method = request.method.uppercased()
        if method == "HEAD" {
            easy.set(CURLOPT_NOBODY, true)
        } else {
            // A body announced larger than the limit fails at once, unread: a 10 GB Content-Length
            // on a slow link ended as `timeout` after the first 10 MiB. (Not for HEAD: its
            // Content-Length is the size of a body that never comes.) `Transfer.receive` holds
            // the limit for bodies without a length.
            sonda_setopt_off_t(easy.handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxBodyBytes))
        }
        if method != "HEAD" && (method != "GET" || request.body != nil) {
            easy.set(CURLOPT_CUSTOMREQUEST, method)
        }
        if let body = request.body { easy.set(CURLOPT_COPYPOSTFIELDS, body) }

        let transferPointer = Unmanaged.passUnretained(transfer).toOpaque()
        easy.collectErrorMessage()
        sonda_setopt_write_function(easy.handle, writeCallback)
        easy.set(CURLOPT_WRITEDATA, pointer: transferPointer)
        sonda_setopt_prereq_function(easy.handle, prereqCallback)
        easy.set(CURLOPT_PREREQDATA, pointer: transferPointer)
        sonda_setopt_ssl_ctx_function(easy.handle, sslContextCallback)
        easy.set(CURLOPT_SSL_CTX_DATA, pointer: transferPointer)
        configureConnection(easy, for: transfer, userData: transferPointer)
        if let client = request.clientCertificate { present(client, on: easy) }
        transfer.shaper?.install(on: easy)
        if transfer.capture != nil {
            sonda_setopt_header_function(easy.handle, headerCallback)
            easy.set(CURLOPT_HEADERDATA, pointer: transferPointer)
        }
    }

    /// Proxy, IP family, HTTP version. Proxies come from the request alone: "" keeps libcurl from
    /// taking one from http_proxy, HTTPS_PROXY or ALL_PROXY in the environment, and an empty
    /// NOPROXY from taking NO_PROXY (the request's `no_proxy` was applied when it chose the proxy).
    private static func configureConnection(
        _ easy: CurlEasy, for transfer: Transfer, userData: UnsafeMutableRawPointer
    ) {
        let request = transfer.request
        if let proxy = transfer.proxy {
            proxy.install(
                on: easy, caFile: request.caFile ?? ProbeRequest.systemCAFile,
                followsRedirects: request.maxRedirects > 0, userData: userData)
        } else {
            easy.set(CURLOPT_PROXY, "")
        }
        easy.set(CURLOPT_NOPROXY, "")
        switch request.connection.ipVersion {
        case .auto: break
        case .v4: easy.set(CURLOPT_IPRESOLVE, Int(CURL_IPRESOLVE_V4))
        case .v6: easy.set(CURLOPT_IPRESOLVE, Int(CURL_IPRESOLVE_V6))
        }
        switch request.connection.httpVersion {
        case .auto: break
        case .http1_1: easy.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        case .http2:
            // Over TLS, ALPN offers h2 (libcurl always offers http/1.1 beside it); in the clear, h2c
            // with prior knowledge.
            let version = request.usesTLS ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
            easy.set(CURLOPT_HTTP_VERSION, Int(version))
        }
        easy.resolve(request.connection.resolve)
    }

    /// The client certificate, its key and the key's passphrase. Without a passphrase an empty one
    /// is set, so an encrypted key fails to load instead of OpenSSL asking on the terminal.
    private static func present(_ client: ClientCertificate, on easy: CurlEasy) {
        easy.set(CURLOPT_SSLCERT, client.certificateFile)
        easy.set(CURLOPT_SSLCERTTYPE, client.format.rawValue)
        if let key = client.keyFile {
            easy.set(CURLOPT_SSLKEY, key)
            easy.set(CURLOPT_SSLKEYTYPE, client.keyFormat.rawValue)
        }
        easy.set(CURLOPT_KEYPASSWD, client.keyPassword ?? "")
    }

    private static func result(
        of transfer: Transfer, code: CURLcode, startedAt: Date, startedMonotonic: UInt64
    ) -> ProbeResult {
        let easy = transfer.easy
        let request = transfer.request
        let counters = transfer.counters
        let handshakeOnly = request.kind == .tlsHandshake
        let phases = transfer.phases(
            counters, startedMonotonic: startedMonotonic, stopsAfterTLS: handshakeOnly || transfer.policyError != nil)
        let proxy = transfer.proxyInfo

        var failure = ProbeErrorClassifier.classify(code, transfer: transfer, counters: counters)
        let verified = failure.map { !$0.code.isCertificateFailure } ?? true
        let tls = request.usesTLS ? transfer.tls.report(verified: verified, now: startedAt) : nil

        var http: HTTPInfo?
        var assertions: [AssertionOutcome] = []
        let status = easy.long(CURLINFO_RESPONSE_CODE)
        if !handshakeOnly && status > 0 {
            http = HTTPInfo(
                status: status, version: httpVersion(easy.long(CURLINFO_HTTP_VERSION)),
                redirects: easy.long(CURLINFO_REDIRECT_COUNT),
                redirectMilliseconds: PhaseTimings.milliseconds(easy.microseconds(CURLINFO_REDIRECT_TIME_T)),
                bodyBytes: transfer.bodyBytes, bodySHA256: transfer.finishBodyHash(),
                remoteIP: transfer.originIP)
            let statusOK = request.expectedStatus.contains { $0.contains(status) }
            assertions.append(AssertionOutcome(name: "status", ok: statusOK, actual: statusOK ? nil : String(status)))
            if failure == nil && status == 407 && transfer.proxy != nil {
                failure = ProxyErrorClassifier.forwardedAuthFailure(transfer)
            } else if failure == nil,
                let refused = ClientCertificateClassifier.classify(status: status, transfer: transfer)
            {
                failure = refused
            } else if failure == nil && !statusOK {
                failure = ProbeError(
                    .httpStatus,
                    "HTTP \(status), expected \(request.expectedStatus.map(\.spelled).joined(separator: ","))"
                )
            }
        }
        if failure == nil, let tls, let expiring = request.tlsPolicy.expiryViolation(tls) {
            failure = expiring
        }
        return ProbeResult(
            startedAt: startedAt, error: failure, phases: phases, http: http, tls: tls, assertions: assertions,
            proxy: proxy, remoteIP: transfer.originIP, url: request.url)
    }

    private static func httpVersion(_ curlVersion: Int) -> String {
        switch curlVersion {
        case Int(CURL_HTTP_VERSION_1_0): "1.0"
        case Int(CURL_HTTP_VERSION_1_1): "1.1"
        case Int(CURL_HTTP_VERSION_2_0): "2"
        case Int(CURL_HTTP_VERSION_3): "3"
        default: "unknown"
        }
    }
}

extension ClosedRange where Bound == Int {
    var spelled: String { lowerBound == upperBound ? String(lowerBound) : "\(lowerBound)-\(upperBound)" }
}

extension ProbeError.Code {
    var isCertificateFailure: Bool {
        [.tlsUntrusted, .tlsHostname, .tlsExpired, .tlsHandshake].contains(self)
    }
}

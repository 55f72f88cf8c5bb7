import CCurl
import Foundation
import SondaCore

/// The mutable state of one transfer that libcurl's callbacks write into. Lives on the probe's
/// worker thread for the duration of one `curl_easy_perform`.
final class Transfer {
    let easy: CurlEasy
    let request: ProbeRequest
    let tls: TLSCapture
    /// What a flow step keeps of the response; nil for plain probes, which keep nothing.
    let capture: ResponseCapture?
    /// The emulated link, when the request's profile shapes anything.
    let shaper: LinkShaper?
    /// The proxy the request goes through, when it goes through one.
    let proxy: ProxyTunnel?
    var bodyBytes = 0
    var bodyTooLarge = false
    var bodyHash: OpaquePointer?
    /// The first bytes of the body of a server that asked for a client certificate: how nginx says
    /// it refused one (a 400 with "No required SSL certificate was sent").
    var bodyPrefix: [UInt8] = []
    /// A policy failure found between the handshake and the request; the transfer was aborted for it.
    var policyError: ProbeError?
    /// The handshake-only check stopped the transfer on purpose after the handshake.
    var stoppedAfterHandshake = false

    init(easy: CurlEasy, request: ProbeRequest, capture: ResponseCapture? = nil) {
        self.easy = easy
        self.request = request
        self.capture = capture
        let proxyEndpoint = request.connection.proxy(for: request.url)
        if let profile = request.profile, LinkShaper.shapes(profile) {
            // libcurl first looks up the proxy's host, or the URL's without a proxy.
            let firstHost = proxyEndpoint?.host ?? URLComponents(string: request.url)?.host
            shaper = LinkShaper(
                profile: profile, connectTimeout: request.connectTimeout ?? request.timeout,
                firstLookupIsAddress: firstHost.map(LinkShaper.isAddress) ?? false)
        } else {
            shaper = nil
        }
        proxy = proxyEndpoint.map { ProxyTunnel(endpoint: $0, url: request.url, alwaysTunnels: request.kind.isTCP) }
        self.tls = TLSCapture(cache: easy.certificates)
        if request.hashBody { bodyHash = sonda_sha256_new() }
    }

    deinit {
        if let bodyHash {
            var digest = [UInt8](repeating: 0, count: 32)
            sonda_sha256_final(bodyHash, &digest)
        }
    }

    func finishBodyHash() -> String? {
        guard let bodyHash else { return nil }
        var digest = [UInt8](repeating: 0, count: 32)
        sonda_sha256_final(bodyHash, &digest)
        self.bodyHash = nil
        return digest.hexString
    }

    /// libcurl's own message for how the transfer failed (empty when it gave none).
    var curlMessage: String { easy.errorMessage }

    /// Runs between the connection (and its TLS handshake) and the request: the last moment to
    /// refuse a connection that breaks the TLS policy before any request byte is sent.
    func connectionReady() -> Bool {
        guard let ssl = sonda_getinfo_ssl(easy.handle) else {
            if request.kind == .tlsHandshake {
                stoppedAfterHandshake = true
                return false
            }
            return true
        }
        tls.recordSession(ssl)
        let policy = request.tlsPolicy
        if let version = tls.version, let violation = policy.versionViolation(negotiated: version) {
            policyError = violation
            return false
        }
        if !policy.spkiSHA256Pins.isEmpty, let violation = policy.pinViolation(leaf: tls.certificates.first) {
            policyError = violation
            return false
        }
        if request.kind == .tlsHandshake {
            stoppedAfterHandshake = true
            return false
        }
        return true
    }

    func receive(_ pointer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        bodyBytes += count
        if bodyBytes > request.maxBodyBytes {
            bodyTooLarge = true
            return 0
        }
        if let bodyHash { sonda_sha256_update(bodyHash, pointer, count) }
        if bodyPrefix.count < 256 && tls.clientCertificateRequested {
            let raw = UnsafeRawBufferPointer(start: pointer, count: min(count, 256 - bodyPrefix.count))
            bodyPrefix.append(contentsOf: raw)
        }
        if let capture { capture.receiveBody(UnsafeRawBufferPointer(start: pointer, count: count)) }
        return count
    }
}

extension Transfer {
    /// libcurl's counters of the transfer, once it is over.
    var counters: PhaseTimings.Counters {
        PhaseTimings.Counters(
            nameLookup: easy.microseconds(CURLINFO_NAMELOOKUP_TIME_T),
            connect: easy.microseconds(CURLINFO_CONNECT_TIME_T),
            appConnect: easy.microseconds(CURLINFO_APPCONNECT_TIME_T),
            preTransfer: easy.microseconds(CURLINFO_PRETRANSFER_TIME_T),
            startTransfer: easy.microseconds(CURLINFO_STARTTRANSFER_TIME_T),
            total: easy.microseconds(CURLINFO_TOTAL_TIME_T))
    }

    /// The counters split into phases; the TCP connection is taken as up when the proxy connected
    /// or the TLS handshake began, if libcurl's CONNECT counter did not say (`startedMonotonic`: when
    /// the transfer started, in DispatchTime nanoseconds).
    func phases(_ counters: PhaseTimings.Counters, startedMonotonic: UInt64, stopsAfterTLS: Bool) -> PhaseTimings {
        let connectedAt = proxy.map(\.firstConnectedAt) ?? tls.handshakeStartedAt
        return PhaseTimings(
            counters: counters, usesTLS: request.usesTLS,
            tcpConnectedMicroseconds: connectedAt.map { Int64($0 &- startedMonotonic) / 1000 },
            stopsAfterTLS: stopsAfterTLS, proxy: proxy?.time(counters: counters) ?? .direct)
    }

    /// The address connected to: the real server's under a profile (libcurl sees the relay's).
    var connectedIP: String? {
        shaper?.upstreamIP ?? easy.string(CURLINFO_PRIMARY_IP).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The origin server's address for the result: nil through a proxy, which alone knows it.
    var originIP: String? { proxy == nil ? connectedIP : nil }

    /// The proxy the transfer went through, with its answer to the CONNECT.
    var proxyInfo: ProxyInfo? {
        proxy.map { tunnel in
            let status = easy.long(CURLINFO_HTTP_CONNECTCODE)
            return ProxyInfo(url: tunnel.endpoint.url, ip: connectedIP, connectStatus: status > 0 ? status : nil)
        }
    }
}

let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    pointer, size, count, userData in
    guard let pointer, let userData else { return 0 }
    return Unmanaged<Transfer>.fromOpaque(userData).takeUnretainedValue().receive(pointer, count: size * count)
}

let prereqCallback:
    @convention(c) (
        UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int32, Int32
    ) -> Int32 = { userData, _, _, _, _ in
        guard let userData else { return Int32(CURL_PREREQFUNC_OK) }
        let transfer = Unmanaged<Transfer>.fromOpaque(userData).takeUnretainedValue()
        transfer.proxy?.requestGoes()
        return transfer.connectionReady() ? Int32(CURL_PREREQFUNC_OK) : Int32(CURL_PREREQFUNC_ABORT)
    }

import CCurl
import Foundation
import SondaCore

/// What the TLS layer of one transfer showed, collected from libcurl and OpenSSL callbacks while
/// the connection was live (libcurl frees the `SSL *` before perform returns).
final class TLSCapture {
    /// The certificates the server sent (leaf first), retained until `reset` or deinit.
    private(set) var sentChain: OpaquePointer?
    /// The first certificate-verification error OpenSSL reported (X509_V_ERR_*), with its depth.
    private(set) var verifyError: (code: Int32, depth: Int32)?
    var version: String?
    var cipher: String?
    /// Monotonic time at which libcurl began the TLS handshake, i.e. when TCP was connected.
    var handshakeStartedAt: UInt64?
    /// The client certificate libcurl loaded for the connection (mutual TLS), if any.
    private(set) var clientCertificate: CertificateInfo?
    /// What the connection showed of client authentication; written by OpenSSL's message callback.
    private let clientAuth: UnsafeMutablePointer<sonda_client_auth>
    private let cache: CertificateCache

    init(cache: CertificateCache) {
        self.cache = cache
        clientAuth = .allocate(capacity: 1)
        clientAuth.initialize(to: sonda_client_auth(requested: 0, sent: 0, alert: -1))
    }

    deinit {
        reset()
        clientAuth.deallocate()
    }

    /// The server sent a CertificateRequest.
    var clientCertificateRequested: Bool { clientAuth.pointee.requested != 0 }
    /// A client certificate went out.
    var clientCertificateSent: Bool { clientAuth.pointee.sent != 0 }
    /// The first alert the server sent (its TLS description code), other than close_notify.
    var serverAlert: Int32? { clientAuth.pointee.alert >= 0 ? clientAuth.pointee.alert : nil }

    func reset() {
        if let sentChain { sonda_x509_stack_free(sentChain) }
        sentChain = nil
        verifyError = nil
        version = nil
        cipher = nil
        handshakeStartedAt = nil
        clientCertificate = nil
        clientAuth.pointee = sonda_client_auth(requested: 0, sent: 0, alert: -1)
    }

    /// Called for every new TLS connection of the transfer (each redirect hop opens one), with the
    /// connection's context: watches it for client authentication, and takes the client
    /// certificate libcurl loaded into it.
    func beginHandshake(_ context: OpaquePointer) {
        if let sentChain { sonda_x509_stack_free(sentChain) }
        sentChain = nil
        verifyError = nil
        if handshakeStartedAt == nil { handshakeStartedAt = DispatchTime.now().uptimeNanoseconds }
        sonda_watch_client_auth(context, clientAuth)
        clientCertificate = SSL_CTX_get0_certificate(context).map(cache.info(for:))
    }

    func recordVerification(preverifyOK: Bool, store: OpaquePointer) {
        if sentChain == nil, let untrusted = X509_STORE_CTX_get0_untrusted(store) {
            sentChain = X509_chain_up_ref(untrusted)
        }
        if !preverifyOK && verifyError == nil {
            verifyError = (X509_STORE_CTX_get_error(store), X509_STORE_CTX_get_error_depth(store))
        }
    }

    func recordSession(_ ssl: OpaquePointer) {
        version = String(cString: SSL_get_version(ssl))
        cipher = sonda_ssl_cipher_name(ssl).map { String(cString: $0) }
    }

    var certificates: [CertificateInfo] {
        guard let sentChain else { return [] }
        return (0..<sonda_x509_stack_count(sentChain)).compactMap { i in
            sonda_x509_stack_at(sentChain, i).map(cache.info(for:))
        }
    }

    func report(verified: Bool, now: Date) -> TLSReport? {
        guard let version else { return nil }
        let certs = certificates
        return TLSReport(
            version: version, cipher: cipher, verified: verified, leaf: certs.first, chain: Array(certs.dropFirst()),
            now: now,
            clientCert: clientCertificate.map {
                ClientCertificateReport(certificate: $0, sent: clientCertificateSent, now: now)
            })
    }
}

/// Index of Sonda's slot in each `SSL_CTX`'s ex-data, which leads the verify callback to its capture.
private let captureIndex: Int32 = sonda_ssl_ctx_new_index()

/// CURLOPT_SSL_CTX_FUNCTION (its data is the `Transfer`): libcurl calls it once TCP is connected
/// (through a proxy: once the tunnel is open), before the handshake. An https:// proxy's own
/// handshake is left to libcurl's checks alone: the capture is of the origin.
let sslContextCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
    -> CURLcode = { _, sslContext, userData in
        guard let sslContext, let userData else { return CURLE_OK }
        let context = OpaquePointer(sslContext)
        let transfer = Unmanaged<Transfer>.fromOpaque(userData).takeUnretainedValue()
        if let proxy = transfer.proxy {
            if proxy.isProxyHandshake() { return CURLE_OK }
            proxy.tunnelOpened()
        }
        transfer.tls.beginHandshake(context)
        SSL_CTX_set_ex_data(context, captureIndex, Unmanaged.passUnretained(transfer.tls).toOpaque())
        SSL_CTX_set_verify(context, SSL_CTX_get_verify_mode(context), verifyCallback)
        return CURLE_OK
    }

/// OpenSSL's per-certificate verify callback: records the chain and the first error, and keeps
/// OpenSSL's own verdict (it never accepts what OpenSSL rejected).
private let verifyCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { preverifyOK, store in
    guard let store, let ssl = sonda_store_ctx_ssl(store), let sslContext = SSL_get_SSL_CTX(ssl),
        let userData = SSL_CTX_get_ex_data(sslContext, captureIndex)
    else { return preverifyOK }
    let capture = Unmanaged<TLSCapture>.fromOpaque(userData).takeUnretainedValue()
    capture.recordVerification(preverifyOK: preverifyOK == 1, store: store)
    if capture.version == nil { capture.recordSession(ssl) }
    return preverifyOK
}

/// Parsed certificates. A probed server presents the same chain every time, so a worker parses
/// each certificate once; a repeat costs a lookup by the SHA-1 OpenSSL already keeps for the
/// certificate and a comparison of the signed part's DER with the one cached (`X509_cmp`), so a
/// SHA-1 collision cannot pass one certificate off as another.
final class CertificateCache {
    private var entries: [[UInt8]: (certificate: OpaquePointer, info: CertificateInfo)] = [:]
    private let capacity = 256

    deinit { clear() }

    func info(for x509: OpaquePointer) -> CertificateInfo {
        var sha1 = [UInt8](repeating: 0, count: 20)
        sonda_x509_sha1(x509, &sha1)
        if let known = entries[sha1], X509_cmp(known.certificate, x509) == 0 { return known.info }
        var sha256 = [UInt8](repeating: 0, count: 32)
        sonda_x509_sha256(x509, &sha256)
        let info = CertificateInfo(x509: x509, fingerprint: sha256.hexString)
        if entries.count >= capacity { clear() }
        if let replaced = entries[sha1] { X509_free(replaced.certificate) }
        X509_up_ref(x509)
        entries[sha1] = (x509, info)
        return info
    }

    private func clear() {
        for entry in entries.values { X509_free(entry.certificate) }
        entries.removeAll(keepingCapacity: true)
    }
}

extension CertificateInfo {
    init(x509: OpaquePointer, fingerprint: String) {
        var buffer = [CChar](repeating: 0, count: 1024)
        func text(_ length: Int32) -> String {
            String(decoding: buffer[..<Int(max(length, 0))].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let subject = text(sonda_x509_name(x509, 0, &buffer, Int32(buffer.count)))
        let issuer = text(sonda_x509_name(x509, 1, &buffer, Int32(buffer.count)))
        let sans = text(sonda_x509_sans(x509, &buffer, Int32(buffer.count))).split(separator: "\n").map(String.init)
        var spki = [UInt8](repeating: 0, count: 32)
        sonda_x509_spki_sha256(x509, &spki)
        self.init(
            subject: subject, issuer: issuer, sans: sans,
            notBefore: Date(timeIntervalSince1970: TimeInterval(sonda_x509_validity(x509, 0))),
            notAfter: Date(timeIntervalSince1970: TimeInterval(sonda_x509_validity(x509, 1))),
            sha256: fingerprint, spkiSHA256: Data(spki).base64EncodedString())
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

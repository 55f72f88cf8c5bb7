import CCurl
import Foundation
import SondaCore

/// Tells a server's refusal of the client certificate (or of its absence) from other TLS and HTTP
/// failures: `tls_client_cert`. Servers say it in two ways: a TLS alert (OpenSSL, Go, Java: during
/// the handshake in TLS 1.2, on the first read after it in TLS 1.3), or, like nginx, a completed
/// handshake and then HTTP 400 ("No required SSL certificate was sent", "The SSL certificate
/// error"; 496 and 495 where the status is passed on).
enum ClientCertificateClassifier {
    /// Alerts a server sends about the client's certificate, by their names (OpenSSL 3.0 has none
    /// for TLS 1.3's certificate_required).
    static let certificateAlerts: [Int32: String] = [
        42: "bad certificate", 43: "unsupported certificate", 44: "certificate revoked", 45: "certificate expired",
        46: "certificate unknown", 48: "unknown CA", 116: "certificate required",
    ]
    static let handshakeFailure: Int32 = 40

    /// A failed transfer: the certificate could not be loaded, or the server's alert was about it.
    static func classify(_ code: CURLcode, transfer: Transfer, curl: String) -> ProbeError? {
        let tls = transfer.tls
        if code == CURLE_SSL_CERTPROBLEM {
            return ProbeError(.tlsClientCert, "cannot use the client certificate: \(curl)")
        }
        guard code != CURLE_OK, let alert = tls.serverAlert else { return nil }
        let aboutCertificate =
            certificateAlerts[alert] != nil
            || (alert == handshakeFailure && tls.clientCertificateRequested && !tls.clientCertificateSent)
        guard aboutCertificate else { return nil }
        let said = "TLS alert: \(certificateAlerts[alert] ?? String(cString: sonda_alert_name(alert)))"
        return refusal(said, transfer: transfer)
    }

    /// A response from a server that asked for a client certificate and answered that it got none,
    /// or none it accepts.
    static func classify(status: Int, transfer: Transfer) -> ProbeError? {
        guard transfer.tls.clientCertificateRequested, [400, 495, 496].contains(status) else { return nil }
        let body = String(decoding: transfer.bodyPrefix, as: UTF8.self)
        let phrases = ["No required SSL certificate was sent", "The SSL certificate error"]
        let phrase = phrases.first { body.contains($0) }
        guard status != 400 || phrase != nil else { return nil }
        return refusal("HTTP \(status)" + (phrase.map { ": \($0)" } ?? ""), transfer: transfer)
    }

    private static func refusal(_ said: String, transfer: Transfer) -> ProbeError {
        let tls = transfer.tls
        guard tls.clientCertificateSent, let certificate = tls.clientCertificate else {
            let hint = transfer.request.clientCertificate == nil ? "; give the check tls.client_cert (--cert)" : ""
            return ProbeError(
                .tlsClientCert, "the server requires a client certificate and none was sent (\(said))\(hint)")
        }
        let expired =
            certificate.notAfter < Date() ? "; it expired on \(Timestamp.format(certificate.notAfter))" : ""
        return ProbeError(
            .tlsClientCert,
            "the server refused the client certificate \(certificate.subject) issued by \(certificate.issuer) (\(said))\(expired)"
        )
    }
}

import CCurl
import SondaCore

/// Maps libcurl's result code, with what the callbacks saw, onto DESIGN.md's closed error set.
enum ProbeErrorClassifier {
    static func classify(_ code: CURLcode, transfer: Transfer, counters: PhaseTimings.Counters) -> ProbeError? {
        let curl = transfer.curlMessage.isEmpty ? CurlEasy.describe(code) : transfer.curlMessage
        let tcpConnected =
            counters.connect > 0 || transfer.tls.handshakeStartedAt != nil || transfer.proxy?.firstConnectedAt != nil
        let inHandshake = transfer.request.usesTLS && counters.appConnect == 0 && tcpConnected
        if let failure = ProxyErrorClassifier.classify(code, transfer: transfer, curl: curl) { return failure }
        if let verify = transfer.tls.verifyError { return certificateError(verify, transfer: transfer) }
        if let client = ClientCertificateClassifier.classify(code, transfer: transfer, curl: curl) { return client }
        switch code {
        case CURLE_OK:
            return nil
        case CURLE_ABORTED_BY_CALLBACK where transfer.stoppedAfterHandshake:
            return nil
        case CURLE_ABORTED_BY_CALLBACK where transfer.policyError != nil:
            return transfer.policyError
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return ProbeError(.dns, curl)
        case CURLE_COULDNT_CONNECT:
            return ProbeError(.connectRefused, curl)
        case CURLE_OPERATION_TIMEDOUT:
            return ProbeError(tcpConnected ? .timeout : .connectTimeout, curl)
        case CURLE_PEER_FAILED_VERIFICATION:
            // OpenSSL accepted the chain, so libcurl's own host name check refused it.
            return ProbeError(.tlsHostname, curl)
        case CURLE_SSL_CONNECT_ERROR:
            return ProbeError(.tlsHandshake, curl)
        case CURLE_TOO_MANY_REDIRECTS:
            return ProbeError(.redirects, curl)
        case CURLE_WRITE_ERROR where transfer.bodyTooLarge:
            return ProbeError(
                .bodyTooLarge, "response body exceeds the limit of \(transfer.request.maxBodyBytes) bytes")
        case CURLE_FILESIZE_EXCEEDED:
            return ProbeError(
                .bodyTooLarge,
                "response body announced (Content-Length) over the limit of \(transfer.request.maxBodyBytes) bytes; not read"
            )
        case CURLE_UNSUPPORTED_PROTOCOL where tcpConnected:
            // Bytes that are not HTTP where a status line should be ("Received HTTP/0.9 when not
            // allowed"): the server's fault, not Sonda's.
            return ProbeError(.httpStatus, "no valid HTTP response: \(curl)")
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_OUT_OF_MEMORY:
            return ProbeError(.internal, curl)
        default:
            // The connection broke: during the handshake it is a TLS failure, afterwards the server
            // gave no usable HTTP response.
            if inHandshake { return ProbeError(.tlsHandshake, curl) }
            if tcpConnected { return ProbeError(.httpStatus, "no valid HTTP response: \(curl)") }
            return ProbeError(.internal, curl)
        }
    }

    private static func certificateError(_ verify: (code: Int32, depth: Int32), transfer: Transfer) -> ProbeError {
        let reason = String(cString: X509_verify_cert_error_string(Int(verify.code)))
        let certificates = transfer.tls.certificates
        let subject = certificates.indices.contains(Int(verify.depth)) ? certificates[Int(verify.depth)].subject : nil
        let at = subject.map { " (\($0))" } ?? ""
        switch verify.code {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            let when =
                certificates.indices.contains(Int(verify.depth))
                ? " on \(Timestamp.format(certificates[Int(verify.depth)].notAfter))" : ""
            return ProbeError(.tlsExpired, "certificate\(at) expired\(when)")
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return ProbeError(.tlsHostname, "\(reason)\(at)")
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            if certificates.count == 1, let leaf = certificates.first, leaf.issuer != leaf.subject {
                return ProbeError(
                    .tlsUntrusted,
                    "\(reason): the server sent only its leaf certificate; the intermediate (\(leaf.issuer)) is missing or the issuer is not trusted"
                )
            }
            return ProbeError(.tlsUntrusted, "\(reason)\(at)")
        default:
            return ProbeError(.tlsUntrusted, "\(reason)\(at)")
        }
    }
}

import Foundation
import SondaCore
import SondaProbe
import TestSupport
import Testing

/// Mutual TLS against real servers that demand a client certificate: nginx (`ssl_verify_client
/// on`, which answers HTTP 400 to a missing or refused one) and `openssl s_server` (a TLS alert),
/// over TLS 1.3 and 1.2. What the result says of the certificate, and the code of each refusal.
@Suite(.serialized) struct ClientCertificateProbeTests {
    static let pool = ProbeWorkerPool(workers: 1)

    enum Server: String, Sendable { case nginx13, nginx12, alert13, alert12 }
    enum Presented: String, Sendable { case none, good, pem, encrypted, pkcs12, rogue, expired }

    struct Case: Sendable, CustomTestStringConvertible {
        var server: Server
        var presented: Presented
        var code: ProbeError.Code?
        /// Words the error message must hold.
        var says: [String] = []
        var testDescription: String { "\(server) with \(presented) → \(code?.rawValue ?? "ok")" }
    }

    static let cases: [Case] = [
        Case(server: .nginx13, presented: .good, code: nil),
        Case(server: .nginx12, presented: .good, code: nil),
        Case(server: .nginx13, presented: .pem, code: nil),
        Case(server: .nginx13, presented: .encrypted, code: nil),
        Case(server: .nginx13, presented: .pkcs12, code: nil),
        Case(server: .alert13, presented: .good, code: nil),
        Case(server: .alert12, presented: .pkcs12, code: nil),
        Case(
            server: .nginx13, presented: .none, code: .tlsClientCert,
            says: ["none was sent", "No required SSL certificate was sent", "tls.client_cert"]),
        Case(
            server: .nginx12, presented: .rogue, code: .tlsClientCert,
            says: ["refused the client certificate CN=sonda-rogue", "HTTP 400: The SSL certificate error"]),
        Case(server: .nginx13, presented: .expired, code: .tlsClientCert, says: ["expired on 2020-02-01"]),
        Case(
            server: .alert13, presented: .none, code: .tlsClientCert, says: ["none was sent", "certificate required"]),
        Case(server: .alert12, presented: .none, code: .tlsClientCert, says: ["none was sent", "handshake failure"]),
        Case(server: .alert13, presented: .rogue, code: .tlsClientCert, says: ["CN=sonda-rogue", "unknown CA"]),
        Case(server: .alert12, presented: .rogue, code: .tlsClientCert, says: ["unknown CA"]),
        Case(server: .alert13, presented: .expired, code: .tlsClientCert, says: ["certificate expired"]),
        Case(server: .alert12, presented: .expired, code: .tlsClientCert, says: ["certificate expired"]),
    ]

    static func url(_ server: Server) throws -> String {
        let mutual = try MutualTLSLab.shared()
        switch server {
        case .nginx13: return mutual.lab.url("mtls")
        case .nginx12: return mutual.lab.url("mtls12")
        case .alert13: return "https://localhost:\(mutual.alertingTLS13)/"
        case .alert12: return "https://localhost:\(mutual.alertingTLS12)/"
        }
    }

    static func certificate(_ presented: Presented) throws -> ClientCertificate? {
        let mutual = try MutualTLSLab.shared()
        switch presented {
        case .none: return nil
        case .good: return ClientCertificate(certificateFile: mutual.certificate, keyFile: mutual.key)
        case .pem: return ClientCertificate(certificateFile: mutual.combined)
        case .encrypted:
            return ClientCertificate(
                certificateFile: mutual.certificate, keyFile: mutual.encryptedKey, keyPassword: MutualTLSLab.passphrase)
        case .pkcs12:
            return ClientCertificate(
                certificateFile: mutual.pkcs12, format: .p12, keyPassword: MutualTLSLab.passphrase)
        case .rogue:
            return ClientCertificate(
                certificateFile: mutual.file("client-rogue.pem"), keyFile: mutual.file("client-rogue.key"))
        case .expired:
            return ClientCertificate(
                certificateFile: mutual.file("client-expired.pem"), keyFile: mutual.file("client-expired.key"))
        }
    }

    @Test(arguments: cases)
    func refusalsHaveTheirCodeAndTheReportNamesTheCertificate(_ c: Case) async throws {
        let lab = try MutualTLSLab.shared().lab
        let client = try Self.certificate(c.presented)
        let result = await Self.pool.probe(
            ProbeRequest(
                url: try Self.url(c.server), caFile: lab.ca, tlsPolicy: TLSPolicy(minVersion: "TLSv1.2"),
                clientCertificate: client))
        let message = result.error?.message ?? ""
        #expect(result.error?.code == c.code, "\(message)")
        for words in c.says { #expect(message.contains(words), "'\(words)' in: \(message)") }
        #expect(!message.contains(MutualTLSLab.passphrase))
        let tls = try #require(result.tls, "the server's side of the handshake is reported")
        #expect(tls.leaf?.subject == "CN=localhost" && tls.verified)
        guard client != nil else {
            #expect(tls.clientCert == nil, "no client certificate, none reported")
            return
        }
        let reported = try #require(tls.clientCert)
        let subject = [Presented.rogue: "CN=sonda-rogue", .expired: "CN=sonda-agent-expired"][c.presented]
        #expect(reported.certificate.subject == subject ?? "CN=sonda-agent")
        #expect(reported.sent, "the server asked, and the certificate went out")
        #expect(reported.certificate.sha256.count == 64)
        #expect((reported.daysToExpiry < 0) == (c.presented == .expired), "\(reported.daysToExpiry)")
    }

    /// A server that does not ask gets no certificate, and the report says so.
    @Test func aServerThatDoesNotAskGetsNone() async throws {
        let lab = try MutualTLSLab.shared().lab
        let result = await Self.pool.probe(
            ProbeRequest(url: lab.url("tls13"), caFile: lab.ca, clientCertificate: try Self.certificate(.good)))
        #expect(result.ok, "\(result.error?.message ?? "")")
        let reported = try #require(result.tls?.clientCert)
        #expect(!reported.sent && reported.certificate.subject == "CN=sonda-agent")
    }

    /// A key that the agent cannot open (here: the passphrase is wrong) fails the probe as
    /// `tls_client_cert` instead of asking on a terminal, and the passphrase is nowhere.
    @Test func aKeyThatDoesNotOpenFailsWithoutPrompting() async throws {
        let mutual = try MutualTLSLab.shared()
        for password in ["wrong-passphrase", nil] {
            let result = await Self.pool.probe(
                ProbeRequest(
                    url: mutual.lab.url("mtls"), caFile: mutual.lab.ca,
                    clientCertificate: ClientCertificate(
                        certificateFile: mutual.certificate, keyFile: mutual.encryptedKey, keyPassword: password)))
            #expect(result.error?.code == .tlsClientCert, "\(result.error?.message ?? "no error")")
            #expect(result.error?.message.contains("cannot use the client certificate") == true)
            #expect(result.error?.message.contains("wrong-passphrase") == false)
        }
    }
}

import Foundation
import SondaConfig
import SondaCore
import TestSupport
import Testing

/// `tls: {client_cert, client_key, client_cert_type, client_key_password}`: what loads, what the
/// passphrase becomes, and the error at its place for each certificate the probe could not use.
@Suite struct ClientCertificateConfigTests {
    static func check(_ tls: [String]) -> String {
        """
        checks:
          - name: partner-api
            class: patient_data
            http: {url: "https://api.partner.example/v1/health"}
            tls:
        \(tls.map { "      " + $0 }.joined(separator: "\n"))
        """
    }

    static func load(_ tls: [String], environment: [String: String] = [:]) -> ([CheckSpec]?, ConfigLoader) {
        var loader = ConfigLoader(environment: environment)
        let checks = loader.loadChecks(path: "checks.yaml", text: check(tls))
        return (checks, loader)
    }

    @Test func aCertificateWithAnEncryptedKeyLoadsAndItsPassphraseIsASecret() throws {
        let pki = try MutualTLSLab.pki()
        let (checks, loader) = Self.load(
            [
                "client_cert: \(pki)/client.pem", "client_key: \(pki)/client-encrypted.key",
                "client_key_password: \"${env:CLIENT_KEY_PASSWORD}\"",
            ], environment: ["CLIENT_KEY_PASSWORD": MutualTLSLab.passphrase])
        let client = try #require(checks?.first?.clientCertificate, "\(loader.diagnosticsText)")
        #expect(client.certificateFile == "\(pki)/client.pem" && client.keyFile == "\(pki)/client-encrypted.key")
        #expect(client.format == .pem && client.keyPassword == MutualTLSLab.passphrase)
        #expect(loader.redactor.redact("key \(MutualTLSLab.passphrase)") == "key [redacted]")
    }

    @Test func aPKCS12IsToldByItsContentAndALiteralPassphraseIsASecretToo() throws {
        let pki = try MutualTLSLab.pki()
        let (checks, loader) = Self.load(
            ["client_cert: \(pki)/client.p12", "client_key_password: \(MutualTLSLab.passphrase)"])
        let client = try #require(checks?.first?.clientCertificate, "\(loader.diagnosticsText)")
        #expect(client.format == .p12 && client.keyFile == nil)
        #expect(loader.redactor.redact(MutualTLSLab.passphrase) == SecretRedactor.mask)
    }

    @Test func anExpiredCertificateIsAWarning() throws {
        let pki = try MutualTLSLab.pki()
        let (checks, loader) = Self.load(
            ["client_cert: \(pki)/client-expired.pem", "client_key: \(pki)/client-expired.key"])
        #expect(checks?.first?.clientCertificate != nil, "the check loads: \(loader.diagnosticsText)")
        let warning = try #require(loader.diagnostics.first)
        #expect(warning.severity == .warning && (warning.line, warning.column) == (6, 20))
        #expect(warning.message.contains("(CN=sonda-agent-expired) expired on 2020-02-01"), "\(warning.message)")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var tls: [String]
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { message }
    }

    /// `PKI/` stands for the lab's folder of certificates.
    static let bad: [Bad] = [
        Bad(tls: ["client_cert: PKI/missing.pem"], line: 6, column: 20, message: "cannot read client_cert"),
        Bad(
            tls: ["client_cert: PKI/client.pem", "client_key: PKI/client-encrypted.key"], line: 7, column: 19,
            message: "client-encrypted.key' is encrypted: give client_key_password"),
        Bad(
            tls: [
                "client_cert: PKI/client.pem", "client_key: PKI/client-encrypted.key",
                "client_key_password: wrong-passphrase",
            ], line: 8, column: 28, message: "client_key_password does not decrypt"),
        Bad(
            tls: ["client_cert: PKI/client.p12", "client_key_password: wrong-passphrase"], line: 7, column: 28,
            message: "client_key_password does not decrypt"),
        Bad(
            tls: ["client_cert: PKI/client.pem", "client_key: PKI/client-rogue.key"], line: 7, column: 19,
            message: "client-rogue.key' is not the key of client_cert"),
        Bad(
            tls: ["client_cert: PKI/client.pem"], line: 6, column: 20, message: "holds no private key: give client_key"),
        Bad(tls: ["client_cert: PKI/client.key"], line: 6, column: 20, message: "holds no PEM certificate"),
        Bad(tls: ["client_key: PKI/client.key"], line: 6, column: 7, message: "'client_key' goes with 'client_cert'"),
        Bad(
            tls: ["client_cert: PKI/client.pem", "client_key: PKI/client.key", "client_cert_type: JKS"], line: 8,
            column: 25, message: "client_cert_type must be PEM, DER or P12, got 'JKS'"),
        Bad(
            tls: ["client_cert: PKI/client.p12", "client_key: PKI/client.key", "client_key_password: x"], line: 7,
            column: 7, message: "a PKCS#12 client_cert holds its key"),
    ]

    @Test(arguments: bad)
    func anUnusableCertificateIsAnErrorAtItsPlace(_ bad: Bad) throws {
        let pki = try MutualTLSLab.pki()
        let (checks, loader) = Self.load(bad.tls.map { $0.replacingOccurrences(of: "PKI/", with: "\(pki)/") })
        #expect(checks == nil)
        let diagnostic = try #require(loader.diagnostics.first { $0.severity == .error })
        #expect((diagnostic.line, diagnostic.column) == (bad.line, bad.column), "\(diagnostic)")
        #expect(diagnostic.message.contains(bad.message), "\(diagnostic.message)")
        #expect(!diagnostic.message.contains("wrong-passphrase"), "a passphrase never shows in a message")
    }
}

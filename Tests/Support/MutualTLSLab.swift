import Foundation

/// Client certificates from the TLS lab's client CA (`scripts/tls-lab`), and servers that demand
/// one: the lab's nginx hosts `mtls` (TLS 1.3) and `mtls12` (TLS 1.2), which complete the handshake
/// and answer HTTP 400 to a missing or refused certificate, and `openssl s_server` with
/// `-verify_return_error`, which refuses it with a TLS alert (as OpenSSL, Go or Java servers do).
public struct MutualTLSLab: Sendable {
    /// The passphrase of `encryptedKey` and `pkcs12` (scripts/tls-lab's CLIENT_PASSPHRASE).
    public static let passphrase = "sonda-client-pass"

    public let lab: TLSLab
    /// `openssl s_server` speaking TLS 1.3 only, and TLS 1.2 only.
    public let alertingTLS13: Int
    public let alertingTLS12: Int

    public static func shared() throws -> MutualTLSLab { try sharedLab.get() }

    public func file(_ name: String) -> String { "\(lab.dir)/pki/\(name)" }

    /// The lab's certificates and keys (the TLS lab is started, the alerting servers are not).
    public static func pki() throws -> String { "\(try TLSLab.shared().dir)/pki" }
    /// The good client certificate (CN=sonda-agent) and its key.
    public var certificate: String { file("client.pem") }
    public var key: String { file("client.key") }
    public var encryptedKey: String { file("client-encrypted.key") }
    public var pkcs12: String { file("client.p12") }
    /// Certificate and key in one PEM file.
    public var combined: String { file("client-with-key.pem") }

    private static let sharedLab: Result<MutualTLSLab, any Error> = Result {
        let lab = try TLSLab.shared()
        return MutualTLSLab(
            lab: lab, alertingTLS13: try alertingServer(lab, version: "-tls1_3"),
            alertingTLS12: try alertingServer(lab, version: "-tls1_2"))
    }

    /// One connection at a time, which the sequential tests need.
    private static func alertingServer(_ lab: TLSLab, version: String) throws -> Int {
        let pki = "\(lab.dir)/pki"
        return try ProxyLab.listening { port in
            try ProxyLab.start(
                "/usr/bin/openssl",
                [
                    "s_server", "-accept", "127.0.0.1:\(port)", "-cert", "\(pki)/good.pem", "-cert_chain",
                    "\(pki)/intermediate.pem", "-key", "\(pki)/good.key", "-Verify", "1", "-verify_return_error",
                    "-CAfile", "\(pki)/client-ca.pem", "-www", "-quiet", version,
                ])
        }
    }
}

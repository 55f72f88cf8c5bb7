import Foundation

/// One certificate as the server presented it.
public struct CertificateInfo: Codable, Hashable, Sendable {
    public var subject: String
    public var issuer: String
    public var sans: [String]
    public var notBefore: Date
    public var notAfter: Date
    /// Lowercase hex SHA-256 of the DER certificate.
    public var sha256: String
    /// Base64 SHA-256 of the DER SubjectPublicKeyInfo: the value a `spki_sha256` pin names.
    public var spkiSHA256: String

    public init(
        subject: String, issuer: String, sans: [String], notBefore: Date, notAfter: Date, sha256: String,
        spkiSHA256: String
    ) {
        self.subject = subject
        self.issuer = issuer
        self.sans = sans
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.sha256 = sha256
        self.spkiSHA256 = spkiSHA256
    }

    enum CodingKeys: String, CodingKey {
        case subject, issuer, sans, sha256
        case notBefore = "not_before"
        case notAfter = "not_after"
        case spkiSHA256 = "spki_sha256"
    }
}

/// What the TLS handshake negotiated and what the server's certificates say.
public struct TLSReport: Codable, Hashable, Sendable {
    /// OpenSSL's protocol name: "TLSv1.3", "TLSv1.2", …
    public var version: String
    /// IANA cipher suite name, e.g. "TLS_AES_256_GCM_SHA384".
    public var cipher: String?
    /// The chain verified against the trust store and the hostname matched.
    public var verified: Bool
    public var leaf: CertificateInfo?
    /// The certificates the server sent after its leaf, in order.
    public var chain: [CertificateInfo]
    /// The earliest notAfter of the leaf and every intermediate the server sent.
    public var earliestExpiry: Date?
    public var daysToExpiry: Double?
    /// The certificate this side presents (mutual TLS), when the check has one.
    public var clientCert: ClientCertificateReport?

    public init(
        version: String, cipher: String?, verified: Bool, leaf: CertificateInfo?, chain: [CertificateInfo],
        now: Date, clientCert: ClientCertificateReport? = nil
    ) {
        self.version = version
        self.cipher = cipher
        self.verified = verified
        self.leaf = leaf
        self.chain = chain
        let expiries = ([leaf].compactMap { $0 } + chain).map(\.notAfter)
        self.earliestExpiry = expiries.min()
        self.daysToExpiry = earliestExpiry.map { ($0.timeIntervalSince(now) / 86_400 * 10).rounded() / 10 }
        self.clientCert = clientCert
    }

    enum CodingKeys: String, CodingKey {
        case version, cipher, verified, leaf, chain
        case earliestExpiry = "earliest_expiry"
        case daysToExpiry = "days_to_expiry"
        case clientCert = "client_cert"
    }

    /// TLS protocol versions ordered for policy comparison; nil for names it does not know.
    public static func rank(ofVersion name: String) -> Int? {
        // A switch, not a dictionary literal: this runs twice a probe, and the literal built a
        // dictionary each time.
        switch name {
        case "SSLv3": 0
        case "TLSv1": 1
        case "TLSv1.1": 2
        case "TLSv1.2": 3
        case "TLSv1.3": 4
        default: nil
        }
    }
}

import Foundation

/// The certificate a check presents when a server asks for one (mutual TLS): `tls.client_cert`
/// with `client_key`, as curl's `--cert`, `--key`, `--cert-type` and `--pass`.
public struct ClientCertificate: Sendable, Hashable {
    /// curl's `--cert-type`: PEM, DER or P12 (PKCS#12, which holds the key too).
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case pem = "PEM"
        case der = "DER"
        case p12 = "P12"
    }

    public var certificateFile: String
    /// nil: the key is in `certificateFile` (a PEM holding both, or a PKCS#12).
    public var keyFile: String?
    public var format: Format
    /// PEM or DER, as libcurl's CURLOPT_SSLKEYTYPE takes it.
    public var keyFormat: Format
    /// Decrypts the key (or opens the PKCS#12). A secret: never shown.
    public var keyPassword: String?

    public init(
        certificateFile: String, keyFile: String? = nil, format: Format = .pem, keyFormat: Format = .pem,
        keyPassword: String? = nil
    ) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.format = format
        self.keyFormat = keyFormat
        self.keyPassword = keyPassword
    }

    /// `pem`, `der`, `p12` (or `pkcs12`, `pfx`), any case; nil for anything else.
    public static func format(named name: String) -> Format? {
        switch name.lowercased() {
        case "pem": .pem
        case "der": .der
        case "p12", "pkcs12", "pfx": .p12
        default: nil
        }
    }
}

/// The client certificate of a probe as the result reports it: the certificate itself (the
/// fields of a server certificate), whether it went out (the server asked for one), and the days
/// left before it expires. Written flat: `{"sent": true, "subject": …, "not_after": …, …}`.
public struct ClientCertificateReport: Codable, Hashable, Sendable {
    public var certificate: CertificateInfo
    /// The server asked for a client certificate and this one was sent.
    public var sent: Bool
    public var daysToExpiry: Double

    public init(certificate: CertificateInfo, sent: Bool, now: Date) {
        self.certificate = certificate
        self.sent = sent
        daysToExpiry = (certificate.notAfter.timeIntervalSince(now) / 86_400 * 10).rounded() / 10
    }

    enum CodingKeys: String, CodingKey {
        case sent
        case daysToExpiry = "days_to_expiry"
    }

    public init(from decoder: any Decoder) throws {
        certificate = try CertificateInfo(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sent = try c.decode(Bool.self, forKey: .sent)
        daysToExpiry = try c.decode(Double.self, forKey: .daysToExpiry)
    }

    public func encode(to encoder: any Encoder) throws {
        try certificate.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sent, forKey: .sent)
        try c.encode(daysToExpiry, forKey: .daysToExpiry)
    }
}

import CCurl
import Foundation
import SondaCore

/// Opens a client certificate and its key as the probe will (with OpenSSL, never prompting for a
/// passphrase), so a config or a `probe` command that names an unusable one is refused before any
/// probe runs: an unreadable or empty file, an encrypted key without its passphrase or with a wrong
/// one, a key that is not the certificate's.
public struct ClientCertificateFile: Sendable {
    public var subject: String
    public var notAfter: Date

    /// What is wrong, and with which of the settings.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public enum Setting: Sendable { case certificate, key, password }
        public var setting: Setting
        public var description: String
    }

    /// The format of a certificate file when none is given: PEM text, else PKCS#12 when OpenSSL
    /// reads it as one, else DER.
    public static func detectFormat(path: String) -> ClientCertificate.Format {
        guard let contents = FileManager.default.contents(atPath: path) else { return .pem }
        if contents.range(of: Data("-----BEGIN".utf8)) != nil { return .pem }
        var certificate: OpaquePointer?
        var key: OpaquePointer?
        let opened = sonda_read_pkcs12(path, nil, &certificate, &key)
        X509_free(certificate)
        EVP_PKEY_free(key)
        return opened != 0 ? .p12 : .der
    }

    /// PEM text, else DER.
    public static func detectKeyFormat(path: String) -> ClientCertificate.Format {
        guard let contents = FileManager.default.contents(atPath: path) else { return .pem }
        return contents.range(of: Data("-----BEGIN".utf8)) != nil ? .pem : .der
    }

    public static func open(_ client: ClientCertificate) throws(Problem) -> ClientCertificateFile {
        let path = client.certificateFile
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw Problem(setting: .certificate, description: "cannot read client_cert '\(path)'")
        }
        var certificate: OpaquePointer?
        var key: OpaquePointer?
        defer {
            X509_free(certificate)
            EVP_PKEY_free(key)
        }
        switch client.format {
        case .p12:
            let opened = withPassword(client.keyPassword) { sonda_read_pkcs12(path, $0, &certificate, &key) }
            if opened == 0 {
                throw Problem(setting: .certificate, description: "client_cert '\(path)' is not a PKCS#12 file")
            }
            if opened < 0 { throw passwordProblem(client.keyPassword, file: path, setting: .certificate) }
        case .pem: certificate = sonda_read_pem_certificate(path)
        case .der: certificate = sonda_read_der_certificate(path)
        }
        guard let certificate else {
            throw Problem(
                setting: .certificate,
                description: "client_cert '\(path)' holds no \(client.format.rawValue) certificate")
        }
        if key == nil {
            let keyPath = client.keyFile ?? path
            let setting: Problem.Setting = client.keyFile == nil ? .certificate : .key
            guard FileManager.default.isReadableFile(atPath: keyPath) else {
                throw Problem(setting: setting, description: "cannot read client_key '\(keyPath)'")
            }
            var asked: Int32 = 0
            key = withPassword(client.keyPassword) { sonda_read_private_key(keyPath, $0, &asked) }
            if key == nil && asked != 0 {
                throw passwordProblem(client.keyPassword, file: keyPath, setting: setting)
            }
            if key == nil {
                throw Problem(
                    setting: setting,
                    description: client.keyFile == nil
                        ? "client_cert '\(path)' holds no private key: give client_key"
                        : "client_key '\(keyPath)' holds no private key")
            }
        }
        guard let key, sonda_key_matches(certificate, key) == 1 else {
            throw Problem(
                setting: client.keyFile == nil ? .certificate : .key,
                description: "client_key '\(client.keyFile ?? path)' is not the key of client_cert '\(path)'")
        }
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = Int(max(sonda_x509_name(certificate, 0, &buffer, Int32(buffer.count)), 0))
        return ClientCertificateFile(
            subject: String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self),
            notAfter: Date(timeIntervalSince1970: TimeInterval(sonda_x509_validity(certificate, 1))))
    }

    private static func passwordProblem(_ password: String?, file: String, setting: Problem.Setting) -> Problem {
        password == nil
            ? Problem(setting: setting, description: "'\(file)' is encrypted: give client_key_password")
            : Problem(setting: .password, description: "client_key_password does not decrypt '\(file)'")
    }

    private static func withPassword<T>(_ password: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let password else { return body(nil) }
        return password.withCString { body($0) }
    }
}

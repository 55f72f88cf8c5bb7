import Foundation
import SondaCore
import Yams

/// `tls: {client_cert, client_key, client_cert_type, client_key_password}`: the certificate a check
/// presents (mutual TLS), opened when the config loads so that a missing file, a wrong passphrase
/// or a key of another certificate is an error at its place.
extension CheckLoader {
    static let clientCertificateKeys = ["client_cert", "client_key", "client_cert_type", "client_key_password"]

    mutating func clientCertificate(_ r: MappingReader, in file: ConfigFile) -> ClientCertificate? {
        guard let (certificatePath, certificateNode) = r.scalar("client_cert", what: "a file path") else {
            for key in Self.clientCertificateKeys where r.has(key) {
                file.error("'\(key)' goes with 'client_cert'", at: r.keyNode(key))
            }
            return nil
        }
        let certificateFile = Self.path(certificatePath, relativeTo: file)
        var format: ClientCertificate.Format?
        if let (text, node) = r.scalar("client_cert_type", what: "PEM, DER or P12") {
            format = ClientCertificate.format(named: text)
            if format == nil { file.error("client_cert_type must be PEM, DER or P12, got '\(text)'", at: node) }
        }
        let certificateFormat = format ?? ClientCertificateFile.detectFormat(path: certificateFile)
        let keyFile = r.scalar("client_key", what: "a file path").map { Self.path($0.0, relativeTo: file) }
        if certificateFormat == .p12, r.has("client_key") {
            file.error("a PKCS#12 client_cert holds its key: drop 'client_key'", at: r.keyNode("client_key"))
        }
        var password: String?
        if let (raw, node) = r.scalar("client_key_password", what: "a passphrase") {
            let resolved = interpolation.resolve(raw, at: node, in: file)
            // A passphrase is a secret however it is written, a literal one too.
            interpolation.redactor.add(resolved)
            password = resolved
        }
        let client = ClientCertificate(
            certificateFile: certificateFile, keyFile: keyFile, format: certificateFormat,
            keyFormat: keyFile.map(ClientCertificateFile.detectKeyFormat(path:)) ?? .pem, keyPassword: password)
        do {
            let opened = try ClientCertificateFile.open(client)
            if opened.notAfter < Date() {
                file.warning(
                    "client_cert '\(certificatePath)' (\(opened.subject)) expired on \(Timestamp.format(opened.notAfter)): servers will refuse it",
                    at: certificateNode)
            }
        } catch {
            let node: Node? =
                switch error.setting {
                case .certificate: certificateNode
                case .key: r.value("client_key") ?? certificateNode
                case .password: r.value("client_key_password") ?? certificateNode
                }
            file.error(error.description, at: node)
        }
        return client
    }

    /// A path as written in `file`: absolute, or relative to the file's folder.
    static func path(_ path: String, relativeTo file: ConfigFile) -> String {
        path.hasPrefix("/")
            ? path : URL(fileURLWithPath: file.path).deletingLastPathComponent().appendingPathComponent(path).path
    }
}

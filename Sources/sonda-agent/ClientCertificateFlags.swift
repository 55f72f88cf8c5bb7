import ArgumentParser
import Foundation
import SondaCLI
import SondaConfig
import SondaCore

/// `probe`'s client certificate (mutual TLS), with curl's flag names; over a `--check`'s own.
struct ClientCertificateFlags: ParsableArguments {
    @Option(
        name: .customLong("cert"),
        help: ArgumentHelp(
            "Client certificate for servers that ask for one: PEM (holding the key, or give --key), DER or PKCS#12.",
            valueName: "file"))
    var certificate: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("Private key of --cert (PEM or DER).", valueName: "file"))
    var key: String?

    @Option(
        name: .customLong("cert-type"),
        help: ArgumentHelp("Format of --cert: PEM, DER or P12 (default: read from the file).", valueName: "type"))
    var type: String?

    @Option(
        name: .customLong("pass"),
        help: ArgumentHelp(
            "Passphrase of an encrypted key or PKCS#12 (it shows in the process list; a config's ${env:…} does not).",
            valueName: "phrase"))
    var password: String?

    /// Flags that do not go together, or an unknown type: exit 64.
    func validate() throws {
        if certificate == nil,
            let flag = [("--key", key), ("--cert-type", type), ("--pass", password)].first(where: { $0.1 != nil })
        {
            throw ValidationError("\(flag.0) goes with --cert")
        }
        if let type, ClientCertificate.format(named: type) == nil {
            throw ValidationError("--cert-type must be PEM, DER or P12, got '\(type)'")
        }
    }

    /// The certificate the flags name, opened as the probe will; nil without `--cert`. One that
    /// cannot be used (unreadable, wrong passphrase, a key of another certificate) exits 78.
    func clientCertificate() throws -> ClientCertificate? {
        guard let certificate else { return nil }
        let client = ClientCertificate(
            certificateFile: certificate, keyFile: key,
            format: type.flatMap(ClientCertificate.format(named:))
                ?? ClientCertificateFile.detectFormat(path: certificate),
            keyFormat: key.map(ClientCertificateFile.detectKeyFormat(path:)) ?? .pem, keyPassword: password)
        do {
            _ = try ClientCertificateFile.open(client)
        } catch {
            let message = error.description.replacingOccurrences(of: "client_key_password", with: "--pass")
                .replacingOccurrences(of: "client_cert", with: "--cert").replacingOccurrences(
                    of: "client_key", with: "--key")
            throw CommandFailure(message: message, code: .config)
        }
        return client
    }
}

import SondaCore
import Yams

/// `tcp: {address, tls, send, expect}`: a check of a TCP service that is not HTTP (an HL7 MLLP
/// feed, an SMTP banner, a database port). `send` and `expect` take `${env:…}`/`${file:…}` and the
/// escapes of `ByteEscapes`.
extension CheckLoader {
    static let tcpKeys = ["address", "tls", "send", "expect"]

    /// - Parameter check: the check's own mapping, for the keys that do not apply to a tcp check.
    mutating func tcpTarget(_ check: MappingReader, in file: ConfigFile) -> CheckTarget? {
        if let expect = check.keyNode("expect") {
            file.error("a tcp check's reply is matched by 'expect' inside 'tcp'", at: expect)
        }
        if let version = check.keyNode("http_version") {
            file.error("'http_version' does not apply to a tcp check", at: version)
        }
        guard let r = check.mapping("tcp", allowed: Self.tcpKeys) else { return nil }
        var address: TCPAddress?
        if let (text, node) = r.scalar("address", required: true, what: "host:port") {
            let resolved = interpolation.resolve(text, at: node, in: file, secret: false)
            if let problem = TCPAddress.problem(resolved) {
                file.error("tcp address '\(text)' \(problem)", at: node)
            } else {
                address = TCPAddress(resolved)
            }
        }
        let usesTLS = flag("tls", of: r, in: file)
        if !usesTLS, let policy = check.keyNode("tls") {
            file.error("a TLS policy on a plain tcp check: add 'tls: true' inside 'tcp' or drop 'tls'", at: policy)
        }
        let send = bytes("send", of: r, in: file)
        let expect = bytes("expect", of: r, in: file)
        if let (_, node) = r.scalar("expect"), expect?.isEmpty == true {
            file.error("'expect' must not be empty", at: node)
        }
        guard let address else { return nil }
        return .tcp(
            TCPTarget(address: address, usesTLS: usesTLS, exchange: TCPExchange(send: send, expect: expect)))
    }

    /// true or false; false when absent.
    private func flag(_ key: String, of r: MappingReader, in file: ConfigFile) -> Bool {
        guard let (text, node) = r.scalar(key, what: "true or false") else { return false }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            file.error("'\(key)' must be true or false, got '\(text)'", at: node)
            return false
        }
    }

    /// The text with its references resolved (a secret, as a body is) and its escapes decoded.
    private mutating func bytes(_ key: String, of r: MappingReader, in file: ConfigFile) -> [UInt8]? {
        guard let (text, node) = r.scalar(key) else { return nil }
        let resolved = interpolation.resolve(text, at: node, in: file)
        do {
            return try ByteEscapes.decode(resolved)
        } catch {
            file.error("'\(key)': \(error.message)", at: node)
            return nil
        }
    }
}

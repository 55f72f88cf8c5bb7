import Crypto
import Foundation
import SondaCore

/// Signs result batches with the agent's Ed25519 key, as the aggregator verifies them:
/// `Sonda-Signature: keyid=<agent id>,t=<unix seconds>,sig=<base64 Ed25519 over "<t>." + body>`.
///
/// The key is kept as swift-crypto's key, not rebuilt from its raw bytes for each batch: that
/// derivation is a scalar multiplication, a sixth of a batch's signing cost. swift-crypto does not
/// mark the key Sendable; it is never mutated, and BoringSSL's signing only reads it.
public struct BatchSigner: @unchecked Sendable {
    public static let headerName = "Sonda-Signature"

    public let agentID: String
    private let key: Curve25519.Signing.PrivateKey

    public init(agentID: String, key: Curve25519.Signing.PrivateKey) {
        self.agentID = agentID
        self.key = key
    }

    public func header(for body: [UInt8], at date: Date = WallClock.now) throws -> String {
        let timestamp = Int(date.timeIntervalSince1970)
        let signature = try key.signature(for: Array("\(timestamp).".utf8) + body)
        return "keyid=\(agentID),t=\(timestamp),sig=\(Data(signature).base64EncodedString())"
    }
}

/// The agent's key on disk: base64 of the 32-byte Ed25519 private key, mode 0600.
public enum AgentKey {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public static func generate(to path: String) throws -> Curve25519.Signing.PrivateKey {
        let key = Curve25519.Signing.PrivateKey()
        let text = key.rawRepresentation.base64EncodedString() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw Problem(
                description: "cannot create '\(path)': \(String(cString: strerror(errno)))"
                    + (errno == EEXIST ? " (it exists; keys are never overwritten)" : ""))
        }
        defer { close(fd) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(fd) == 0 else {
            throw Problem(description: "cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
        return key
    }

    public static func load(from path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(description: "cannot read key file '\(path)'")
        }
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw Problem(description: "'\(path)' is not a Sonda agent key (sonda-agent keygen --out FILE makes one)")
        }
        return key
    }

    /// The line for the aggregator's `agents:` list.
    public static func publicKeyText(_ key: Curve25519.Signing.PrivateKey) -> String {
        "ed25519:" + key.publicKey.rawRepresentation.base64EncodedString()
    }
}

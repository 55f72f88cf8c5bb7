import Crypto
import Foundation
import SondaCore
import SondaKeys

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

/// The agent's key on disk, in the file format both keygens share (`Ed25519KeyFile`).
public enum AgentKey {
    public typealias Problem = Ed25519KeyFile.Problem

    /// A new key at `path`; an existing file is never overwritten.
    public static func generate(to path: String) throws -> Curve25519.Signing.PrivateKey {
        do {
            return try Ed25519KeyFile.generate(to: path)
        } catch var problem as Problem where problem.code == .exists {
            problem.description += " (it exists; keys are never overwritten)"
            throw problem
        }
    }

    public static func load(from path: String) throws -> Curve25519.Signing.PrivateKey {
        try Ed25519KeyFile.load(from: path, madeBy: "sonda-agent keygen --out FILE")
    }

    /// The line for the aggregator's `agents:` list.
    public static func publicKeyText(_ key: Curve25519.Signing.PrivateKey) -> String {
        Ed25519KeyFile.publicKeyText(key.publicKey)
    }
}

import Crypto
import Foundation
import SondaConfig

/// `Sonda-Signature: keyid=<agent id>,t=<unix seconds>,sig=<base64 Ed25519 over "<t>." + body>`.
public struct SignatureHeader: Sendable, Hashable {
    public static let name = "Sonda-Signature"

    public var agent: String
    public var timestamp: Int64
    public var signature: Data

    /// Parses the header; throws a 401 naming what is missing or malformed.
    public init(parsing text: String) throws(AggregatorError) {
        var fields: [Substring: Substring] = [:]
        for part in text.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let key = part[..<eq].trimmingCharacters(in: .whitespaces)
            fields[Substring(key)] = part[part.index(after: eq)...]
        }
        guard let agent = fields["keyid"], !agent.isEmpty else { throw .badSignature("signature header has no keyid") }
        guard let t = fields["t"], let timestamp = Int64(t) else {
            throw .badSignature("signature header has no numeric t (unix seconds)")
        }
        guard let sig = fields["sig"], let signature = Data(base64Encoded: String(sig)), signature.count == 64 else {
            throw .badSignature("signature header has no sig of 64 base64-encoded bytes")
        }
        self.agent = String(agent)
        self.timestamp = timestamp
        self.signature = signature
    }

    /// Checks the signature against the agent's key, then the timestamp against `now` ± `window`.
    /// An unknown agent or a signature that does not verify is 401; a stale timestamp 409.
    public func verify(body: some DataProtocol, agents: [String: AggregatorConfig.Agent], now: Date, window: Duration)
        throws(AggregatorError)
    {
        guard let known = agents[agent] else { throw .unknownAgent(agent) }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: known.publicKey) else {
            throw .badSignature("agent '\(agent)' has no usable public key")
        }
        var signed = Data("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        guard key.isValidSignature(signature, for: signed) else {
            throw .badSignature("signature does not verify with agent '\(agent)''s public key")
        }
        let skew = now.timeIntervalSince1970 - Double(timestamp)
        let limit = Double(window.components.seconds)
        guard abs(skew) <= limit else {
            throw .replay("signature timestamp is \(Int(skew)) s from the aggregator's clock (allowed ±\(Int(limit)) s)")
        }
    }
}

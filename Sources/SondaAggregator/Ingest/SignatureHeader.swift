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

    /// The header of a request and the configured agent it names, before any of the body is read.
    /// A missing or malformed header is 401 naming the problem; a keyid that is not a configured
    /// agent is the same 401 as a signature that does not verify, so ids cannot be probed.
    public static func admit(_ text: String?, agents: [String: AggregatorConfig.Agent])
        throws(AggregatorError) -> (SignatureHeader, AggregatorConfig.Agent)
    {
        guard let text else { throw .badSignature("missing \(name) header") }
        let header = try SignatureHeader(parsing: text)
        guard let agent = agents[header.agent] else { throw .signatureRejected }
        return (header, agent)
    }

    /// Checks the signature against the agent's key, then the timestamp against `now` ± `window`.
    /// A signature that does not verify is 401 (`signatureRejected`); a stale timestamp 409.
    public func verify(body: some DataProtocol, agent: AggregatorConfig.Agent, now: Date, window: Duration)
        throws(AggregatorError)
    {
        var signed = Data("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: agent.publicKey),
            key.isValidSignature(signature, for: signed)
        else { throw .signatureRejected }
        let skew = now.timeIntervalSince1970 - Double(timestamp)
        let limit = Double(window.components.seconds)
        guard abs(skew) <= limit else {
            throw .replay(
                "signature timestamp is \(Int(skew)) s from the aggregator's clock (allowed ±\(Int(limit)) s)")
        }
    }

    /// Until when this signature could be replayed: its timestamp plus the window.
    public func replayableUntil(window: Duration) -> Date {
        Date(timeIntervalSince1970: Double(timestamp) + Double(window.components.seconds))
    }
}

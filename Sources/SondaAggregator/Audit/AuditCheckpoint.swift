import Crypto
import Foundation
import SondaCore
import SondaKeys

/// A signed statement of the audit chain's head: "the chain had `entries` entries, the last one
/// hashing to `head`, at `at`", signed with the aggregator's Ed25519 key. Written outside the
/// database as one JSON line, so whoever can write the database cannot rewrite or cut the chain
/// behind a checkpoint without `audit verify --checkpoints` noticing.
///
/// The signature covers `signedText`, not the JSON, so the line's spacing or key order do not
/// matter to it; every field of the line but `signature` is in it.
public struct AuditCheckpoint: Sendable, Hashable {
    /// Why it was written.
    public enum Reason: String, Sendable {
        case start, interval, shutdown
    }

    /// Entries on the chain, in order of `seq`; `head` is the hash of the last (the genesis hash
    /// of 64 zeros for none).
    public var entries: Int
    public var head: String
    /// UTC with milliseconds, as written (`2026-12-05T07:00:00.000Z`).
    public var at: String
    public var reason: Reason
    public var keyID: String
    /// Base64 of the Ed25519 signature over `signedText`.
    public var signature: String

    static let format = 1

    public var signedText: String {
        "sonda audit checkpoint \(Self.format)\nentries \(entries)\nhead \(head)\nat \(at)\nreason \(reason.rawValue)\n"
            + "key \(keyID)\n"
    }

    /// Signs the head `head` of a chain of `entries` entries at `date`.
    public init(
        entries: Int, head: String, at date: Date, reason: Reason, key: Curve25519.Signing.PrivateKey
    ) throws {
        self.entries = entries
        self.head = head
        self.at = Self.timestamp(date)
        self.reason = reason
        self.keyID = Ed25519KeyFile.keyID(key.publicKey)
        self.signature = ""
        signature = try key.signature(for: Data(signedText.utf8)).base64EncodedString()
    }

    /// Whether `key` made `signature` over this checkpoint.
    public func isSigned(by key: Curve25519.Signing.PublicKey) -> Bool {
        guard let raw = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(raw, for: Data(signedText.utf8))
    }

    /// The JSON line, without its newline.
    public var line: String {
        #"{"audit_checkpoint":\#(Self.format),"entries":\#(entries),"head":"\#(head)","at":"\#(at)","#
            + #""reason":"\#(reason.rawValue)","key_id":"\#(keyID)","signature":"\#(signature)"}"#
    }

    /// Reads a line `line` wrote, after any prefix before its `{` (a syslog line's date, host and
    /// program name); throws why it is not one.
    public init(line: Substring) throws(Unreadable) {
        guard let brace = line.firstIndex(of: "{") else { throw Unreadable("not a JSON checkpoint") }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(line[brace...].utf8))
        } catch {
            throw Unreadable("not a whole JSON object (\(error)); the line may have been cut")
        }
        guard json["audit_checkpoint"] == .number(String(Self.format)) else {
            throw Unreadable("not a checkpoint of format \(Self.format) (no \"audit_checkpoint\":\(Self.format))")
        }
        func text(_ key: String) throws(Unreadable) -> String {
            guard case .string(let value)? = json[key] else { throw Unreadable("its \"\(key)\" is missing") }
            return value
        }
        guard case .number(let count)? = json["entries"], let entries = Int(count), entries >= 0 else {
            throw Unreadable("its \"entries\" is not a count")
        }
        guard let reason = Reason(rawValue: try text("reason")) else { throw Unreadable("its \"reason\" is unknown") }
        self.entries = entries
        self.head = try text("head")
        self.at = try text("at")
        self.reason = reason
        self.keyID = try text("key_id")
        self.signature = try text("signature")
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

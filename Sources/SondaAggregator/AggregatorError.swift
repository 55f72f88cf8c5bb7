import Foundation
import HTTPTypes
import Hummingbird

/// A request the aggregator refuses: a code (which fixes the HTTP status) and a readable message,
/// answered as `{"error":{"code","message"}}`.
public struct AggregatorError: HTTPResponseError, CustomStringConvertible {
    /// A refusal's stable name, as the JSON body's `code`, the `code` label of
    /// `sonda_ingest_rejected_total` and docs/contract.md spell it, with the status it is answered with.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let status: HTTPResponse.Status

        private init(_ name: String, _ status: HTTPResponse.Status) {
            self.name = name
            self.status = status
        }

        public var description: String { name }
        public static func == (a: Code, b: Code) -> Bool { a.name == b.name }
        public func hash(into hasher: inout Hasher) { hasher.combine(name) }

        /// No bearer token, or one that is not configured.
        public static let unauthorized = Code("unauthorized", .unauthorized)
        /// A known token without the right (a read token on an admin endpoint), or a change from
        /// off-host with no admin tokens configured.
        public static let forbidden = Code("forbidden", .forbidden)
        public static let notFound = Code("not_found", .notFound)
        public static let methodNotAllowed = Code("method_not_allowed", .methodNotAllowed)
        /// A batch whose signature header is missing or malformed, whose key id is unknown, or
        /// whose signature does not verify.
        public static let badSignature = Code("bad_signature", .unauthorized)
        /// A batch whose `agent` is not the agent that signed it.
        public static let agentMismatch = Code("agent_mismatch", .badRequest)
        /// A batch whose region differs from its agent's configured one.
        public static let regionMismatch = Code("region_mismatch", .badRequest)
        /// A signature time outside the window: a replay, or the agent's clock is off.
        public static let replay = Code("replay", .conflict)
        public static let tooLarge = Code("too_large", .contentTooLarge)
        /// A body that is not what the contract describes.
        public static let malformed = Code("malformed", .badRequest)
        /// A query parameter with a value the endpoint does not take.
        public static let badParameter = Code("bad_parameter", .badRequest)
        /// A silence body that does not describe a silence.
        public static let badSilence = Code("bad_silence", .badRequest)
        public static let databaseUnavailable = Code("database_unavailable", .serviceUnavailable)

        /// Every code, as docs/contract.md and docs/openapi.yaml list them.
        public static let all: [Code] = [
            unauthorized, forbidden, notFound, methodNotAllowed, badSignature, agentMismatch, regionMismatch, replay,
            tooLarge, malformed, badParameter, badSilence, databaseUnavailable,
        ]
    }

    public var code: Code
    public var message: String
    public var status: HTTPResponse.Status { code.status }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let object = ["error": ["code": code.name, "message": message]]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badSignature(_ message: String) -> Self { .init(.badSignature, message) }
    /// An unknown keyid and a signature that does not verify get this same answer, byte for byte.
    static let signatureRejected = badSignature(
        "the signature does not verify: its keyid is not a configured agent, or the body was not signed with that "
            + "agent's key")
    static func agentMismatch(_ message: String) -> Self {
        .init(.agentMismatch, message + "; an agent reports only for itself")
    }
    static func regionMismatch(_ message: String) -> Self { .init(.regionMismatch, message) }
    static func replay(_ message: String) -> Self { .init(.replay, message) }
    static func tooLarge(_ message: String) -> Self { .init(.tooLarge, message) }
    static func malformed(_ message: String) -> Self { .init(.malformed, message) }
    static func badParameter(_ name: String, _ message: String) -> Self {
        .init(.badParameter, "'\(name)': \(message)")
    }
}

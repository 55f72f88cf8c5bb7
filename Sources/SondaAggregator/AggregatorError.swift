import Foundation
import HTTPTypes
import Hummingbird

/// A request the aggregator refuses: an HTTP status, a stable machine code and a readable message,
/// answered as `{"error":{"code","message"}}`.
public struct AggregatorError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let object = ["error": ["code": code, "message": message]]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badSignature(_ message: String) -> Self { .init(.unauthorized, "bad_signature", message) }
    /// An unknown keyid and a signature that does not verify get this same answer, byte for byte.
    static let signatureRejected = badSignature(
        "the signature does not verify: its keyid is not a configured agent, or the body was not signed with that "
            + "agent's key")
    static func agentMismatch(_ message: String) -> Self {
        .init(.badRequest, "agent_mismatch", message + "; an agent reports only for itself")
    }
    static func regionMismatch(_ message: String) -> Self { .init(.badRequest, "region_mismatch", message) }
    static func replay(_ message: String) -> Self { .init(.conflict, "replay", message) }
    static func tooLarge(_ message: String) -> Self { .init(.contentTooLarge, "too_large", message) }
    static func malformed(_ message: String) -> Self { .init(.badRequest, "malformed", message) }
    static func badParameter(_ name: String, _ message: String) -> Self {
        .init(.badRequest, "bad_parameter", "'\(name)': \(message)")
    }
}

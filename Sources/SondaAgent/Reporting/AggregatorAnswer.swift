import Foundation
import SondaProbe

/// What an aggregator's answer to a batch means for the batch.
enum AggregatorAnswer: Equatable, Sendable {
    /// 200: the batch is committed.
    case accepted
    /// 400 or 413: the aggregator will never take this batch as it is.
    case refused(BatchRefusal)
    /// No answer (a connection error, a timeout), a 5xx, or a refusal the operator or time fixes
    /// rather than the batch: 401 and 403 (a key the aggregator does not know yet), 409 (the
    /// agent's clock), or any other status. Worth another aggregator, and a retry with backoff.
    case unavailable(String)

    init(_ response: HTTPPostResponse) {
        if let error = response.transportError {
            self = .unavailable(error)
            return
        }
        let refusal = BatchRefusal(status: response.status, body: response.body)
        switch response.status {
        case 200: self = .accepted
        case 400, 413: self = .refused(refusal)
        default: self = .unavailable(refusal.description)
        }
    }

    var isAccepted: Bool { self == .accepted }
}

/// An aggregator's refusal as it gave it: the status and its `{"error":{"code","message"}}` (or
/// the start of the body, when it is not that).
struct BatchRefusal: Equatable, Sendable, CustomStringConvertible {
    var status: Int
    var code: String?
    var message: String

    init(status: Int, code: String?, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(status: Int, body: String) {
        let error =
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["error"] as? [String: Any]
        if let message = error?["message"] as? String {
            self.init(status: status, code: error?["code"] as? String, message: message)
        } else {
            let text = body.prefix(200).trimmingCharacters(in: .whitespacesAndNewlines)
            self.init(status: status, code: nil, message: text)
        }
    }

    /// 413: the batch is larger than the aggregator takes; its halves may not be.
    var isTooLarge: Bool { status == 413 }

    /// `HTTP 413 too_large: body of 5000000 bytes is over the limit of 4194304`
    var description: String {
        "HTTP \(status)" + (code.map { " \($0)" } ?? "") + (message.isEmpty ? "" : (code == nil ? " " : ": ") + message)
    }
}

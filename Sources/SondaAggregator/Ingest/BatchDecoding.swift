import Foundation
import SondaCore

/// Decodes a POST body into a `ResultBatch`, turning decoding errors into a 400 whose message
/// names the field path, as a person fixing an agent would need.
enum BatchDecoding {
    static func decode(_ body: Data, maxResults: Int) throws(AggregatorError) -> ResultBatch {
        let batch: ResultBatch
        do {
            batch = try ResultJSON.decoder().decode(ResultBatch.self, from: body)
        } catch let error as DecodingError {
            throw .malformed(describe(error))
        } catch {
            throw .malformed("body is not a result batch: \(error)")
        }
        guard batch.results.count <= maxResults else {
            throw .tooLarge("batch has \(batch.results.count) results; the limit is \(maxResults)")
        }
        return batch
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the body" : "$" + text
        }
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "body is not valid JSON" }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) must be \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) must be \(describe(type)), not null"
        @unknown default:
            return "body is not a result batch"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [Any].Type: "a list"
        default: "an object"
        }
    }
}

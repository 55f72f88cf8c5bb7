import Foundation
import Hummingbird
import SondaCore

/// Reading query parameters, with a 400 that names the parameter when one is wrong.
struct QueryParameters {
    let request: Request

    func string(_ name: String) -> String? {
        request.uri.queryParameters.get(name).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A window like 5m, 1h, 30d: more than zero, at most `maximum`.
    func window(default text: String = "1h", maximum: Duration) throws -> (Duration, String) {
        let written = string("window") ?? text
        guard let window = try? DurationParsing.parse(written), window > .zero else {
            throw AggregatorError.badParameter("window", "expected a duration like 5m, 1h or 30d, got '\(written)'")
        }
        guard window <= maximum else {
            throw AggregatorError.badParameter(
                "window", "\(written) is longer than the rollups are kept (\(DurationParsing.format(maximum)))")
        }
        return (window, written)
    }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = string(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw AggregatorError.badParameter(
                name, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }
}

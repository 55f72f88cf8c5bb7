import Foundation

/// What `/health` answers: `{"status":"ok"}` while nothing persists; otherwise the persisting
/// faults, with status "degraded" (HTTP 200: the process still does its job) or, when one of them
/// fails health, "failing" (HTTP 503).
public struct HealthReport: Sendable, Equatable {
    public struct Fault: Sendable, Equatable, Encodable {
        public var cause: String
        public var since: Date
        public var occurrences: Int
        public var message: String
        let failsHealth: Bool

        public init(cause: FaultCause, _ persisting: FaultLedger.Persisting) {
            self.cause = cause.name
            since = persisting.since
            occurrences = persisting.occurrences
            message = persisting.message
            failsHealth = cause.failsHealth
        }

        public init(cause: String, since: Date, message: String, failsHealth: Bool) {
            self.cause = cause
            self.since = since
            occurrences = 1
            self.message = message
            self.failsHealth = failsHealth
        }

        enum CodingKeys: String, CodingKey { case cause, since, occurrences, message }
    }

    public var faults: [Fault]

    public init(faults: [Fault]) { self.faults = faults }

    public var status: String { faults.isEmpty ? "ok" : faults.contains(where: \.failsHealth) ? "failing" : "degraded" }

    public var httpStatus: Int { status == "failing" ? 503 : 200 }

    /// The JSON body, keys sorted.
    public var json: String {
        struct Body: Encodable {
            var status: String
            var faults: [Fault]?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let body = Body(status: status, faults: faults.isEmpty ? nil : faults)
        return (try? encoder.encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"status":"\#(status)"}"#
    }
}

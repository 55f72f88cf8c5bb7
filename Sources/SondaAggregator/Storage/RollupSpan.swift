import Foundation

/// Which rollup table answers a window: minute rows up to 6 hours, hour rows up to 7 days, day
/// rows beyond, so a 30-day query reads tens of rows per cell rather than tens of thousands.
/// Longer windows are counted in whole hours or days (the oldest one is included whole).
public struct RollupSpan: Sendable {
    static let minuteLimit: Int64 = 6 * 3600
    static let hourLimit: Int64 = 7 * 86_400

    var latencyTable: String
    var outcomeTable: String
    var column: String
    /// The first minute or hour inside the window.
    var since: Int64

    init(window: Duration, now: Date) {
        let start = now.timeIntervalSince1970 - Double(window.components.seconds)
        if window.components.seconds <= Self.minuteLimit {
            (latencyTable, outcomeTable, column) = ("latency_minute", "outcome_minute", "minute")
            since = Int64((start / 60).rounded(.down))
        } else if window.components.seconds <= Self.hourLimit {
            (latencyTable, outcomeTable, column) = ("latency_hour", "outcome_hour", "hour")
            since = Int64((start / 3600).rounded(.down))
        } else {
            (latencyTable, outcomeTable, column) = ("latency_day", "outcome_day", "day")
            since = Int64((start / 86_400).rounded(.down))
        }
    }
}

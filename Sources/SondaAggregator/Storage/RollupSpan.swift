import Foundation

/// Which rollup table answers a window: minute rows up to 6 hours, hour rows up to 7 days, day
/// rows beyond, so a 30-day query reads tens of rows per cell rather than tens of thousands.
/// Longer windows are counted in whole hours or days (the oldest one is included whole).
public struct RollupSpan: Sendable {
    static let minuteLimit: Int64 = 6 * 3600
    static let hourLimit: Int64 = 7 * 86_400

    var granularity: MinuteRollup.Span
    var latencyTable: String { granularity.latencyTable }
    var outcomeTable: String { granularity.outcomeTable }
    var column: String { granularity.column }
    /// The first minute or hour inside the window.
    var since: Int64

    init(window: Duration, now: Date) {
        let start = now.timeIntervalSince1970 - Double(window.components.seconds)
        if window.components.seconds <= Self.minuteLimit {
            granularity = .minute
            since = Int64((start / 60).rounded(.down))
        } else if window.components.seconds <= Self.hourLimit {
            granularity = .hour
            since = Int64((start / 3600).rounded(.down))
        } else {
            granularity = .day
            since = Int64((start / 86_400).rounded(.down))
        }
    }
}

import Foundation
import SondaCore

/// One check's latency over a window, from the minute rollups: p50 and p95 of every phase per
/// bucket (a minute over 1 h, an hour over 24 h), and per region × profile the quantiles of the
/// total with the outcome counts.
///
/// The minute rollups are keyed (minute, region, profile, check, …): the rows are read with one
/// index seek per minute × region × profile of this check (`minute IN (…) AND region IN (…)`), so a
/// check's page does not scan the whole fleet's minutes.
public struct CheckLatency: Sendable {
    public struct Bucketing: Sendable {
        var seconds: Int64
        var count: Int
        var window: String

        static func of(window: String) -> Bucketing? {
            switch window {
            case "1h": Bucketing(seconds: 60, count: 60, window: window)
            case "24h": Bucketing(seconds: 3600, count: 24, window: window)
            default: nil
            }
        }
    }

    /// One region × profile's outcomes and total-phase quantiles over the window.
    struct Slice: Hashable {
        var region: String, profile: String, endpointClass: String
        var total = 0
        var errors: [String: Int] = [:]
        var samples = 0
        var p50: Double?, p95: Double?, p99: Double?
        var failed: Int { errors.values.reduce(0, +) }
    }

    static let phases: [PhaseTimings.Phase] = [.total, .dns, .connect, .tls, .wait, .receive]

    var bucketing: Bucketing
    /// Start of the first bucket, seconds since 1970.
    var start: Int64
    /// phase → per bucket (p50, p95).
    var series: [PhaseTimings.Phase: [(p50: Double?, p95: Double?)]]
    var slices: [Slice]
    /// Every profile the check ran under in the window, for the filter links.
    var profiles: [String]

    var errors: [String: Int] { slices.reduce(into: [:]) { all, row in all.merge(row.errors, uniquingKeysWith: +) } }

    /// The bucket labels: "14:05" per minute, "14:00" per hour (UTC).
    var labels: [String] {
        (0..<bucketing.count).map { i in
            StatusFormat.clock(Date(timeIntervalSince1970: Double(start + Int64(i) * bucketing.seconds)))
        }
    }
}

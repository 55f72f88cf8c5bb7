import Foundation
import SondaCore

/// One check's latency over a window, from the minute rollups: p50 and p95 of every phase per
/// bucket (a minute over 1 h, an hour over 24 h), and per region × profile the quantiles of the
/// total with the outcome counts.
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

    /// The phases charted, in the page's order; `proxy` only for a check that went through a proxy
    /// in the window (`charted`).
    static let phases: [PhaseTimings.Phase] = [.total, .dns, .connect, .proxy, .tls, .wait, .receive]

    /// The phases to chart: every one of `phases` but `proxy` where no probe in the window went
    /// through a proxy (a direct check has no such phase, and an empty chart would say nothing).
    var charted: [PhaseTimings.Phase] {
        Self.phases.filter { phase in
            phase != .proxy || series[phase]?.contains { $0.p50 != nil } == true
        }
    }

    var bucketing: Bucketing
    /// Start of the first bucket, seconds since 1970.
    var start: Int64
    /// phase → per bucket (p50, p95).
    var series: [PhaseTimings.Phase: [(p50: Double?, p95: Double?)]]
    var slices: [Slice]
    /// Every profile the check ran under in the window, for the filter links.
    var profiles: [String]

    var errors: [String: Int] { slices.reduce(into: [:]) { all, row in all.merge(row.errors, uniquingKeysWith: +) } }

    /// Builds a check's latency from rollup rows, whichever store reads them: first the outcome
    /// rows over `outcomeSpan` from `outcomeSince` (which regions and profiles ran the check, and
    /// how it went there), then the minute histograms from `firstMinute` to `lastMinute` of those
    /// `regions` and `shownProfiles`, phases by their index in `CheckLatency.phases`.
    struct Builder {
        let bucketing: Bucketing
        let profile: String?
        let firstBucket: Int64
        let firstMinute: Int64
        let lastMinute: Int64
        let outcomeSpan: MinuteRollup.Span
        let outcomeSince: Int64
        private var byKey: [String: Slice] = [:]
        private var profiles: Set<String> = []
        private var perBucket: [[HistogramAccumulator]]
        private var perSlice: [String: HistogramAccumulator] = [:]

        init(bucketing: Bucketing, profile: String?, now: Date) {
            let nowSeconds = Int64(now.timeIntervalSince1970)
            self.bucketing = bucketing
            self.profile = profile
            firstBucket = nowSeconds.floorDivided(by: bucketing.seconds) - Int64(bucketing.count - 1)
            firstMinute = firstBucket * bucketing.seconds / 60
            lastMinute = nowSeconds.floorDivided(by: 60)
            (outcomeSpan, outcomeSince) = bucketing.seconds == 60 ? (.minute, firstMinute) : (.hour, firstBucket)
            perBucket = [[HistogramAccumulator]](
                repeating: [HistogramAccumulator](repeating: HistogramAccumulator(), count: phases.count),
                count: bucketing.count)
        }

        /// The key of a region × profile × class slice, as the stores also build it in SQL.
        static func sliceKey(region: String, profile: String, endpointClass: String) -> String {
            "\(region)|\(profile)|\(endpointClass)"
        }

        mutating func addOutcome(
            region: String, profile shown: String, endpointClass: String, errorCode: String, count: Int
        ) {
            profiles.insert(shown)
            if let profile, shown != profile { return }
            let key = Self.sliceKey(region: region, profile: shown, endpointClass: endpointClass)
            var entry = byKey[key] ?? Slice(region: region, profile: shown, endpointClass: endpointClass)
            entry.total += count
            if !errorCode.isEmpty { entry.errors[errorCode, default: 0] += count }
            byKey[key] = entry
        }

        var regions: [String] { Set(byKey.values.map(\.region)).sorted() }
        var shownProfiles: [String] { Set(byKey.values.map(\.profile)).sorted() }

        /// A serialized histogram of phase `phase` (an index in `phases`) in `minute`; `sliceKey`
        /// is given for the total phase only.
        mutating func addHistogram(
            minute: Int64, phase: Int, sliceKey: String?, serialized bytes: UnsafeRawBufferPointer
        ) {
            let bucket = Int(minute * 60 / bucketing.seconds - firstBucket)
            guard (0..<bucketing.count).contains(bucket), (0..<phases.count).contains(phase) else { return }
            perBucket[bucket][phase].add(serialized: bytes)
            if let sliceKey, byKey[sliceKey] != nil {
                perSlice[sliceKey, default: HistogramAccumulator()].add(serialized: bytes)
            }
        }

        func build() -> CheckLatency {
            var series: [PhaseTimings.Phase: [(p50: Double?, p95: Double?)]] = [:]
            for (p, phase) in phases.enumerated() {
                series[phase] = perBucket.map { ($0[p].quantile(0.5), $0[p].quantile(0.95)) }
            }
            var byKey = byKey
            for (key, histogram) in perSlice {
                byKey[key]!.samples = Int(histogram.count)
                byKey[key]!.p50 = histogram.quantile(0.5)
                byKey[key]!.p95 = histogram.quantile(0.95)
                byKey[key]!.p99 = histogram.quantile(0.99)
            }
            let slices = byKey.values.sorted {
                ($0.region, $0.profile, $0.endpointClass) < ($1.region, $1.profile, $1.endpointClass)
            }
            return CheckLatency(
                bucketing: bucketing, start: firstBucket * bucketing.seconds, series: series, slices: slices,
                profiles: profiles.sorted())
        }
    }

    /// The bucket labels: "14:05" per minute, "14:00" per hour (UTC).
    var labels: [String] {
        (0..<bucketing.count).map { i in
            StatusFormat.clock(Date(timeIntervalSince1970: Double(start + Int64(i) * bucketing.seconds)))
        }
    }
}

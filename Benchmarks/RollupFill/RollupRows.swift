import Foundation

/// Rows for a latency rollup table (`latency_minute` with a check, `latency_hour`/`latency_day`
/// without), generated once by a benchmark and written to each store it compares.
public struct LatencyRows: Sendable {
    public var buckets: [Int64] = [], regions: [String] = [], profiles: [String] = [], checks: [String] = []
    public var classes: [String] = [], phases: [String] = [], counts: [Int64] = [], histograms: [Data] = []

    public init() {}

    public var count: Int { buckets.count }

    /// `check` only for the minute table.
    public mutating func append(
        bucket: Int64, region: String, profile: String, check: String? = nil, endpointClass: String, phase: String,
        count: Int64, histogram: Data
    ) {
        buckets.append(bucket)
        regions.append(region)
        profiles.append(profile)
        if let check { checks.append(check) }
        classes.append(endpointClass)
        phases.append(phase)
        counts.append(count)
        histograms.append(histogram)
    }

    public mutating func append(contentsOf other: LatencyRows) {
        buckets += other.buckets
        regions += other.regions
        profiles += other.profiles
        checks += other.checks
        classes += other.classes
        phases += other.phases
        counts += other.counts
        histograms += other.histograms
    }
}

/// Rows for an outcome rollup table (`outcome_minute`, `outcome_hour`, `outcome_day`).
public struct OutcomeRows: Sendable {
    public var buckets: [Int64] = [], regions: [String] = [], profiles: [String] = [], checks: [String] = []
    public var classes: [String] = [], errorCodes: [String] = [], counts: [Int64] = []

    public init() {}

    public var count: Int { buckets.count }

    /// `errorCode` is "" for successes.
    public mutating func append(
        bucket: Int64, region: String, profile: String, check: String, endpointClass: String, errorCode: String,
        count: Int64
    ) {
        buckets.append(bucket)
        regions.append(region)
        profiles.append(profile)
        checks.append(check)
        classes.append(endpointClass)
        errorCodes.append(errorCode)
        counts.append(count)
    }
}

/// Rows for the `agents` table: a heartbeat each.
public struct AgentRows: Sendable {
    public var ids: [String] = [], regions: [String] = [], lastSeenMilliseconds: [Int64] = []

    public init() {}

    public mutating func append(id: String, region: String, lastSeenMilliseconds ms: Int64) {
        ids.append(id)
        regions.append(region)
        lastSeenMilliseconds.append(ms)
    }
}

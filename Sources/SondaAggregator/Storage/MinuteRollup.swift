import Foundation
import SondaCore

/// Results' contribution to the rollups, built in memory and merged into the stored rows (on
/// SQLite, see `PendingRollups` for when): latency histograms of successful results per phase, and
/// outcome counts per error code ("" for ok). Per minute with every dimension (short windows,
/// per-check detail); per hour and per day without the check for budget cells (and with it for
/// uptime), so long windows read few rows.
package struct MinuteRollup {
    /// One (region, profile, check, class) series: per minute, a histogram per phase (successful
    /// results only) and counts per error code. Keeping the string dimensions out of the inner
    /// keys makes `add` one string-keyed lookup per result; hours and days are summed at `save`.
    struct Series {
        var latency: [Int64: [LatencyHistogram]] = [:]
        var outcomes: [Int64: [String: Int]] = [:]

        mutating func merge(_ other: Series) {
            for (minute, histograms) in other.latency {
                latency[minute, default: Self.emptyPhases].merge(histograms)
            }
            for (minute, counts) in other.outcomes {
                outcomes[minute, default: [:]].merge(counts, uniquingKeysWith: +)
            }
        }

        static let emptyPhases = [LatencyHistogram](
            repeating: LatencyHistogram(), count: PhaseTimings.Phase.allCases.count)
    }
    struct HourLatencyKey: Hashable {
        var hour: Int64
        var region: String, profile: String, endpointClass: String
    }
    struct HourOutcomeKey: Hashable {
        var hour: Int64
        var key: RollupKey
        var errorCode: String
    }

    var series: [RollupKey: Series] = [:]

    var isEmpty: Bool { series.isEmpty }

    mutating func add(_ result: borrowing ProbeResult, key: RollupKey) {
        add(key: key, startedAt: result.startedAt, ok: result.ok, errorCode: result.error?.code.rawValue ?? "",
            phases: result.phases)
    }

    /// What `add` takes of a result: callers that borrow results from a buffer pass these, as
    /// passing the whole result to a mutating method copied it (744 bytes, and its strings retained).
    mutating func add(key: RollupKey, startedAt: Date, ok: Bool, errorCode: String, phases: PhaseTimings) {
        let minute = Int64((startedAt.timeIntervalSince1970 / 60).rounded(.down))
        series[key, default: Series()].add(ok: ok, errorCode: errorCode, phases: phases, minute: minute)
    }

    /// Adds another rollup's counts and histograms to this one.
    mutating func merge(_ other: MinuteRollup) {
        if isEmpty {
            self = other
            return
        }
        for (key, s) in other.series { series[key, default: Series()].merge(s) }
    }

    /// The rows this rollup adds to each table, every store's to write: histograms for the
    /// latency tables (hour and day rows without the check), counts for the outcome tables. With
    /// `phasesTogether` (PostgreSQL's layout) a key's histograms of every phase make one row, in
    /// `phaseLatency`; otherwise each phase is a row of its own, in `latency`. With `minutesOnly`
    /// (PostgreSQL's ingest, whose hours and days the lease holder adds up) only the minute rows.
    func rows(phasesTogether: Bool = false, minutesOnly: Bool = false) -> Rows {
        var rows = Rows()
        var hourLatency: [HourLatencyKey: [LatencyHistogram]] = [:]
        var dayLatency: [HourLatencyKey: [LatencyHistogram]] = [:]
        var hourOutcomes: [HourOutcomeKey: Int] = [:]
        var dayOutcomes: [HourOutcomeKey: Int] = [:]
        for (k, s) in series {
            for (minute, histograms) in s.latency {
                let (hour, day) = (minute.floorDivided(by: 60), minute.floorDivided(by: 1440))
                if !minutesOnly {
                    let hourKey = HourLatencyKey(
                        hour: hour, region: k.region, profile: k.profile, endpointClass: k.endpointClass)
                    hourLatency[hourKey, default: Series.emptyPhases].merge(histograms)
                    var dayKey = hourKey
                    dayKey.hour = day
                    dayLatency[dayKey, default: Series.emptyPhases].merge(histograms)
                }
                if phasesTogether {
                    rows.phaseLatency[.minute, default: []].append(
                        Row(
                            bucket: minute, region: k.region, profile: k.profile, check: k.check,
                            endpointClass: k.endpointClass, label: "", value: histograms))
                    continue
                }
                for (phase, histogram) in zip(PhaseTimings.Phase.allCases, histograms) where histogram.count > 0 {
                    rows.latency[.minute, default: []].append(
                        Row(
                            bucket: minute, region: k.region, profile: k.profile, check: k.check,
                            endpointClass: k.endpointClass, label: phase.rawValue, value: histogram))
                }
            }
            for (minute, counts) in s.outcomes {
                let (hour, day) = (minute.floorDivided(by: 60), minute.floorDivided(by: 1440))
                for (code, n) in counts {
                    rows.outcomes[.minute, default: []].append(
                        Row(
                            bucket: minute, region: k.region, profile: k.profile, check: k.check,
                            endpointClass: k.endpointClass, label: code, value: n))
                    guard !minutesOnly else { continue }
                    hourOutcomes[HourOutcomeKey(hour: hour, key: k, errorCode: code), default: 0] += n
                    dayOutcomes[HourOutcomeKey(hour: day, key: k, errorCode: code), default: 0] += n
                }
            }
        }
        for (span, histograms) in [(Span.hour, hourLatency), (.day, dayLatency)] {
            for (k, phases) in histograms {
                if phasesTogether {
                    rows.phaseLatency[span, default: []].append(
                        Row(
                            bucket: k.hour, region: k.region, profile: k.profile, check: nil,
                            endpointClass: k.endpointClass, label: "", value: phases))
                    continue
                }
                for (phase, h) in zip(PhaseTimings.Phase.allCases, phases) where h.count > 0 {
                    rows.latency[span, default: []].append(
                        Row(
                            bucket: k.hour, region: k.region, profile: k.profile, check: nil,
                            endpointClass: k.endpointClass, label: phase.rawValue, value: h))
                }
            }
        }
        for (span, counts) in [(Span.hour, hourOutcomes), (.day, dayOutcomes)] {
            rows.outcomes[span] = counts.map { k, n in
                Row(
                    bucket: k.hour, region: k.key.region, profile: k.key.profile, check: k.key.check,
                    endpointClass: k.key.endpointClass, label: k.errorCode, value: n)
            }
        }
        return rows
    }

    /// The rollup tables' granularities; each names its tables and bucket column.
    enum Span: CaseIterable {
        case minute, hour, day

        var column: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .day: "day"
            }
        }
        var latencyTable: String { "latency_\(column)" }
        var outcomeTable: String { "outcome_\(column)" }
    }

    /// One row of a rollup table: a bucket (minute, hour or day number), its dimensions, and the
    /// phase (latency) or error code ("" for ok; outcomes) with the histogram or count. `check` is
    /// nil in the hour and day latency tables, which have no check column.
    struct Row<Value> {
        var bucket: Int64
        var region: String, profile: String, check: String?, endpointClass: String
        var label: String
        var value: Value
    }

    struct Rows {
        var latency: [Span: [Row<LatencyHistogram>]] = [:]
        /// One histogram per phase, in `PhaseTimings.Phase.allCases`' order (empty where none).
        var phaseLatency: [Span: [Row<[LatencyHistogram]>]] = [:]
        var outcomes: [Span: [Row<Int>]] = [:]
    }
}

extension MinuteRollup.Series {
    mutating func add(ok: Bool, errorCode: String, phases: PhaseTimings, minute: Int64) {
        outcomes[minute, default: [:]][errorCode, default: 0] += 1
        guard ok else { return }
        latency[minute, default: Self.emptyPhases].withUnsafeMutableBufferPointer { histograms in
            for (i, phase) in PhaseTimings.Phase.allCases.enumerated() {
                if let ms = phases[phase] { histograms[i].record(milliseconds: ms) }
            }
        }
    }
}

extension [LatencyHistogram] {
    /// Merges phase by phase (both arrays hold one histogram per phase).
    mutating func merge(_ other: [LatencyHistogram]) {
        for i in indices { self[i].merge(other[i]) }
    }
}

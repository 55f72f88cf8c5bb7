import Foundation
import Prometheus
import SondaCore
import Synchronization

/// The agent's `/metrics`: the last result per check × profile under blackbox_exporter's names
/// and meanings, the phase histograms by profile, and the agent's own counters, kept in a
/// swift-prometheus registry that writes the text format.
///
/// `record(_:)` runs once per probe, so it does one dictionary lookup under one lock and then
/// stores into metric objects it already holds (`CheckSeries`); the registry's own lookups run only
/// when a check × profile, a phase or a TLS version is first seen. Counters and gauges are the
/// library's atomics; its histograms take a short lock of their own.
///
/// `faults` is where the agent's work reports faults no caller sees (a spool write that failed);
/// its counts are part of the exposition, and what persists of them is what `/health` reports.
public final class AgentMetrics: Sendable {
    private struct SeriesKey: Hashable {
        var check: String
        var profile: String
    }

    private struct State {
        var series: [SeriesKey: CheckSeries] = [:]
        /// The checks named by the last `forget(exceptChecks:)`; nil until the first, when every
        /// check is configured.
        var configured: Set<String>?
        /// The running totals last reported, to turn them into counter increments.
        var skippedSeen = 0
        var droppedSeen = 0
        var quarantinedResultsSeen = 0
        var quarantinedBatchesSeen = 0
        var lastTick = Date.distantPast
    }

    private let registry = PrometheusCollectorRegistry()
    private let state = Mutex(State())
    private let probes: Counter
    private let probeFailures: Counter
    private let probesSkipped: Counter
    private let queueWait: ValueHistogram
    private let spoolDepth: Gauge
    private let spoolDropped: Counter
    private let spoolUnwritten: Counter
    private let batchesSent: Counter
    private let sendFailures: Counter
    private let quarantinedResults: Counter
    private let quarantinedBatches: Counter
    private let produced = Atomic<Int>(0)
    private let unwrittenResults = Atomic<Int>(0)
    public let faults: FaultLog

    public init(faults: FaultLog = FaultLog()) {
        self.faults = faults
        faults.register(.spoolWrite, .spoolRead, .spoolDiskFull, .clockSkew)
        probes = registry.makeCounter(descriptor: AgentMetricFamily.probes.descriptor)
        probeFailures = registry.makeCounter(descriptor: AgentMetricFamily.probeFailures.descriptor)
        probesSkipped = registry.makeCounter(descriptor: AgentMetricFamily.probesSkipped.descriptor)
        queueWait = registry.makeValueHistogram(
            descriptor: AgentMetricFamily.queueWait.descriptor, buckets: AgentMetricFamily.queueWaitBuckets)
        spoolDepth = registry.makeGauge(descriptor: AgentMetricFamily.spoolDepth.descriptor)
        spoolDropped = registry.makeCounter(descriptor: AgentMetricFamily.spoolDropped.descriptor)
        spoolUnwritten = registry.makeCounter(descriptor: AgentMetricFamily.spoolUnwritten.descriptor)
        batchesSent = registry.makeCounter(descriptor: AgentMetricFamily.batchesSent.descriptor)
        sendFailures = registry.makeCounter(descriptor: AgentMetricFamily.sendFailures.descriptor)
        quarantinedResults = registry.makeCounter(descriptor: AgentMetricFamily.quarantinedResults.descriptor)
        quarantinedBatches = registry.makeCounter(descriptor: AgentMetricFamily.quarantinedBatches.descriptor)
    }

    /// Counts a probe and, for a result of a whole check (not one of its steps), makes it the
    /// check × profile's last result.
    public func record(_ result: ProbeResult) {
        probes.increment()
        produced.add(1, ordering: .relaxed)
        if !result.ok { probeFailures.increment() }
        guard result.step == nil else { return }
        let key = SeriesKey(check: result.check ?? "", profile: result.profile ?? "none")
        state.withLock { state in
            if let index = state.series.index(forKey: key) {
                state.series.values[index].update(with: result, registry: registry)
            } else if state.configured?.contains(key.check) ?? true {
                var series = CheckSeries(check: key.check, profile: key.profile, registry: registry)
                series.update(with: result, registry: registry)
                state.series[key] = series
            }
        }
    }

    /// Unregisters the series of every check not in `names`, so a check a reload removed leaves the
    /// scrape instead of repeating its last value for as long as the agent runs. Call it with the
    /// checks of each configuration loaded, before that configuration's first probe; until the first
    /// call every check is kept. A probe in flight across the reload finishes under the old
    /// configuration: its result is counted in `sonda_probes_total` but feeds no series, not even its
    /// profile's histograms, so none comes back.
    ///
    /// Only checks are forgotten. A profile a reload removed keeps its series (the last-result gauges
    /// of its checks and its histograms, which hold their last counts) until the agent restarts.
    public func forget(exceptChecks names: Set<String>) {
        state.withLock { state in
            state.configured = names
            let removed = state.series.filter { !names.contains($0.key.check) }
            for (key, series) in removed {
                series.unregister(from: registry)
                state.series[key] = nil
            }
        }
    }

    /// A due probe waited `seconds` in the scheduler's queue before a worker took it.
    public func waited(seconds: Double) { queueWait.record(seconds) }

    /// `skipped` is the scheduler's running total; a total lower than the last one is a new
    /// schedule's (a reload starts counting again), so all of it is new.
    public func scheduled(skipped: Int, at date: Date = Date()) {
        state.withLock { state in
            Self.add(skipped, since: &state.skippedSeen, to: probesSkipped)
            state.lastTick = date
        }
    }

    /// `dropped` is the spool's running total, which it keeps across restarts.
    public func reported(ok: Bool, spoolDepth depth: Int, dropped: Int) {
        (ok ? batchesSent : sendFailures).increment()
        spoolDepth.set(to: Double(depth))
        state.withLock { Self.add(dropped, since: &$0.droppedSeen, to: spoolDropped) }
    }

    /// `count` results were lost: the spool could not write them.
    public func unwritten(_ count: Int) {
        spoolUnwritten.increment(by: Int64(count))
        unwrittenResults.add(count, ordering: .relaxed)
    }

    /// Results this process produced (`sonda_probes_total`) and could not spool
    /// (`sonda_spool_unwritten_total`), for the account the agent logs when it stops.
    public var account: (produced: Int, unwritten: Int) {
        (produced.load(ordering: .relaxed), unwrittenResults.load(ordering: .relaxed))
    }

    /// The spool's running totals of quarantined results and batches, which it keeps across restarts.
    public func quarantined(results: Int, batches: Int) {
        state.withLock { state in
            Self.add(results, since: &state.quarantinedResultsSeen, to: quarantinedResults)
            Self.add(batches, since: &state.quarantinedBatchesSeen, to: quarantinedBatches)
        }
    }

    /// The scheduler ticked recently.
    public func isAlive(within seconds: TimeInterval, now: Date = Date()) -> Bool {
        state.withLock { now.timeIntervalSince($0.lastTick) < seconds }
    }

    /// What `/health` reports: the persisting faults, and a scheduler that has not ticked for
    /// `stalledAfter` (which fails health).
    public func health(stalledAfter seconds: TimeInterval = 30, now: Date = Date()) -> HealthReport {
        var report = faults.health()
        let lastTick = state.withLock { $0.lastTick }
        if now.timeIntervalSince(lastTick) >= seconds {
            report.faults.append(
                .init(
                    cause: "scheduler_stalled", since: lastTick == .distantPast ? now : lastTick,
                    message: "the scheduler has not ticked for \(Int(seconds)) s", failsHealth: true))
        }
        return report
    }

    /// The exposition in Prometheus' text format 0.0.4. Families come in no fixed order.
    public func render() -> String {
        registry.emitToString() + faults.metricsText()
    }

    private static func add(_ total: Int, since seen: inout Int, to counter: Counter) {
        counter.increment(by: Int64(total >= seen ? total - seen : total))
        seen = total
    }
}

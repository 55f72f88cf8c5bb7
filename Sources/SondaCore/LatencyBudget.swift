/// A limit on one phase of a probe: `--budget 200ms` or a check's budget.
public struct LatencyBudget: Hashable, Sendable {
    public var limit: Duration
    public var phase: PhaseTimings.Phase

    public init(limit: Duration, phase: PhaseTimings.Phase = .total) {
        self.limit = limit
        self.phase = phase
    }

    public var limitMilliseconds: Double { limit.milliseconds }

    /// One result against the budget; nil for a failed probe (failures count against uptime, not latency).
    public func outcome(of result: ProbeResult) -> BudgetOutcome? {
        guard result.ok, let value = result.phases[phase] else { return nil }
        return BudgetOutcome(limitMilliseconds: limitMilliseconds, phase: phase, ok: value <= limitMilliseconds)
    }

    /// A run of probes is over budget when the p95 of the phase over successful probes exceeds the limit.
    public func isExceeded(by summary: PhaseSummary) -> Bool {
        guard let stats = summary.stats[phase] else { return false }
        return stats.p95 > limitMilliseconds
    }
}

/// p50/p95/max per phase over a set of results; only successful results count,
/// as latency budgets do (failures count against uptime instead).
public struct PhaseSummary: Hashable, Sendable {
    public struct Stats: Hashable, Sendable {
        public var p50: Double
        public var p95: Double
        public var max: Double
    }

    public var count: Int
    public var failed: Int
    public var stats: [PhaseTimings.Phase: Stats]

    public init(_ results: [ProbeResult]) {
        let ok = results.filter(\.ok)
        count = ok.count
        failed = results.count - ok.count
        var stats: [PhaseTimings.Phase: Stats] = [:]
        for phase in PhaseTimings.Phase.allCases {
            let values = ok.compactMap { $0.phases[phase] }.sorted()
            guard !values.isEmpty else { continue }
            stats[phase] = Stats(
                p50: Self.quantile(values, 0.50), p95: Self.quantile(values, 0.95), max: values[values.count - 1])
        }
        self.stats = stats
    }

    /// Nearest-rank quantile of sorted values.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty)
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

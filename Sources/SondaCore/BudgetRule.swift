/// A latency budget from budgets.yaml: a quantile of one phase, for the results a selector picks.
/// The most specific matching rule wins: check > class+region+profile > class.
public struct BudgetRule: Sendable, Hashable {
    public enum Quantile: String, Sendable, Hashable, CaseIterable { case p50, p95, p99 }

    public var check: String?
    public var endpointClass: String?
    public var region: String?
    public var profile: String?
    public var phase: PhaseTimings.Phase
    public var quantile: Quantile
    public var limit: Duration

    public init(
        check: String? = nil, endpointClass: String? = nil, region: String? = nil, profile: String? = nil,
        phase: PhaseTimings.Phase = .total, quantile: Quantile = .p95, limit: Duration
    ) {
        self.check = check
        self.endpointClass = endpointClass
        self.region = region
        self.profile = profile
        self.phase = phase
        self.quantile = quantile
        self.limit = limit
    }

    public func matches(check: String?, endpointClass: String?, region: String?, profile: String?) -> Bool {
        (self.check == nil || self.check == check) && (self.endpointClass == nil || self.endpointClass == endpointClass)
            && (self.region == nil || self.region == region) && (self.profile == nil || self.profile == profile)
    }

    /// Higher is more specific.
    public var specificity: Int {
        (check != nil ? 8 : 0) + (region != nil ? 2 : 0) + (profile != nil ? 2 : 0) + (endpointClass != nil ? 1 : 0)
    }

    /// The rule that applies to a cell of results, per phase: the most specific match.
    public static func applicable(
        _ rules: [BudgetRule], check: String?, endpointClass: String?, region: String?, profile: String?
    ) -> [BudgetRule] {
        let matching = rules.filter { $0.matches(check: check, endpointClass: endpointClass, region: region, profile: profile) }
        return Dictionary(grouping: matching, by: \.phase).values.compactMap { $0.max { $0.specificity < $1.specificity } }
            .sorted { $0.phase.rawValue < $1.phase.rawValue }
    }
}

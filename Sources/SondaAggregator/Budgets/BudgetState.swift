/// Where a cell stands against its limit: violated above it, degraded within 10 % below it.
public enum BudgetState: String, Codable, Sendable, Hashable {
    case ok, degraded, violated
    case noData = "no-data"
    /// A cell no rule covers: quantiles are reported, nothing is judged.
    case noBudget = "no-budget"

    public static func judge(valueMilliseconds value: Double?, limitMilliseconds limit: Double?) -> BudgetState {
        guard let limit else { return value == nil ? .noData : .noBudget }
        guard let value else { return .noData }
        if value > limit { return .violated }
        if value >= limit * 0.9 { return .degraded }
        return .ok
    }

    /// For gauges: -1 no data or no budget, 0 ok, 1 degraded, 2 violated.
    public var gaugeValue: Int {
        switch self {
        case .ok: 0
        case .degraded: 1
        case .violated: 2
        case .noData, .noBudget: -1
        }
    }
}

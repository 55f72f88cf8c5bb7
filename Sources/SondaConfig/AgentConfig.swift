import SondaCore

/// One agent's configuration: who it is, where it reports, and what it checks under which profiles.
public struct AgentConfig: Sendable {
    public var file: String
    public var id: String
    public var region: String
    public var site: String?
    /// Where the agent reports, in the order given (`aggregator.url`, or each of `aggregator.urls`);
    /// empty when the file has no `aggregator:`.
    public var aggregatorURLs: [String]
    public var keyFile: String?
    public var spool: String?
    public var batch: BatchLimits
    public var profiles: [NetworkProfile]
    public var checks: [CheckSpec]
    public var budgets: [BudgetRule]
    /// Every secret the config resolved; outputs pass through it.
    public var redactor: SecretRedactor
    /// The files the configuration was read from, in the order they were read.
    public var sourceFiles: [SourceFile] = []

    /// Probes started per minute: every check under every profile at its interval.
    public var probesPerMinute: Double {
        checks.reduce(0) { sum, check in
            let steps: Int
            switch check.target {
            case .flow(let list): steps = list.count
            default: steps = 1
            }
            return sum + Double(steps * max(profiles.count, 1)) * 60_000 / max(check.interval.milliseconds, 1)
        }
    }

    public func check(named name: String) -> CheckSpec? { checks.first { $0.name == name } }
}

/// When the agent sends what it has spooled: after this many results or this long, whichever first.
public struct BatchLimits: Sendable, Hashable {
    public var maxResults = 500
    public var maxAge: Duration = .seconds(10)

    public init() {}
}

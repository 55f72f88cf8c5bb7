import SondaCore
import SondaProbe

/// `sonda-agent probe`: runs one request `count` times in sequence, each on a fresh connection,
/// and decides the exit code scripts rely on.
public struct AdHocProbe: Sendable {
    public enum Outcome: Int32, Sendable {
        case ok = 0
        case probeFailed = 1
        case overBudget = 2
    }

    /// A URL given on the command line, or a configured check (a request, a handshake or a flow).
    public enum Target: Sendable {
        case request(ProbeRequest)
        case check(CheckSpec, SecretRedactor)
    }

    public var target: Target
    public var count: Int
    public var budget: LatencyBudget?
    /// Every run goes through each profile in turn (interleaved, so a slow minute of the real
    /// link hits all profiles alike); nil is the agent's own link.
    public var profiles: [NetworkProfile?]
    /// Budgets for particular profiles (budgets.yaml rules with `profile:`), over `budget`.
    public var profileBudgets: [String: LatencyBudget] = [:]
    /// Masks secrets given on the command line (`--pass`) in the results of a `.request`; a
    /// `.check` brings its own.
    public var redactor = SecretRedactor()

    public init(
        request: ProbeRequest, count: Int = 1, budget: LatencyBudget? = nil, profiles: [NetworkProfile?] = [nil]
    ) {
        self.init(target: .request(request), count: count, budget: budget, profiles: profiles)
    }

    public init(target: Target, count: Int = 1, budget: LatencyBudget? = nil, profiles: [NetworkProfile?] = [nil]) {
        self.target = target
        self.count = count
        self.budget = budget
        self.profiles = profiles.isEmpty ? [nil] : profiles
    }

    /// Runs the probes on one worker; `onResult` sees each result, on that worker's thread, as soon
    /// as it is complete.
    public func run(on pool: ProbeWorkerPool, onResult: @escaping @Sendable (ProbeResult) -> Void = { _ in }) async
        -> [ProbeResult]
    {
        var requestRedactor = redactor
        if case .request(let request) = target { requestRedactor.addPassword(of: request.url) }
        return await pool.withWorker { [self, requestRedactor] runner in
            var results: [ProbeResult] = []
            results.reserveCapacity(count * profiles.count)
            for _ in 0..<count {
                for profile in profiles {
                    let run: [ProbeResult]
                    switch target {
                    case .request(var request):
                        request.profile = profile
                        run = [runner.probe(request).redacted(by: requestRedactor)]
                    case .check(let check, let redactor): run = runner.run(check, redactor: redactor, profile: profile)
                    }
                    for var result in run {
                        result.profile = profile?.name
                        if let budget = budget(for: profile?.name), result.step == nil {
                            result.budget = budget.outcome(of: result)
                        }
                        onResult(result)
                        results.append(result)
                    }
                }
            }
            return results
        }
    }

    /// Flow steps are reported but judged through their flow's own result.
    public func outcome(of results: [ProbeResult]) -> Outcome {
        let whole = results.filter { $0.step == nil }
        if whole.contains(where: { !$0.ok }) { return .probeFailed }
        for (profile, group) in Self.byProfile(whole) {
            if let budget = budget(for: profile), budget.isExceeded(by: PhaseSummary(group)) { return .overBudget }
        }
        return .ok
    }

    /// The budget a profile's runs are held to.
    public func budget(for profile: String?) -> LatencyBudget? {
        profile.flatMap { profileBudgets[$0] } ?? budget
    }

    /// Results grouped by profile, in the order the profiles first appear.
    public static func byProfile(_ results: [ProbeResult]) -> [(profile: String?, results: [ProbeResult])] {
        var order: [String?] = []
        var groups: [String?: [ProbeResult]] = [:]
        for result in results {
            if groups[result.profile] == nil { order.append(result.profile) }
            groups[result.profile, default: []].append(result)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }
}

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

    public init(request: ProbeRequest, count: Int = 1, budget: LatencyBudget? = nil) {
        self.init(target: .request(request), count: count, budget: budget)
    }

    public init(target: Target, count: Int = 1, budget: LatencyBudget? = nil) {
        self.target = target
        self.count = count
        self.budget = budget
    }

    /// Runs the probes on one worker; `onResult` sees each result, on that worker's thread, as soon
    /// as it is complete.
    public func run(on pool: ProbeWorkerPool, onResult: @escaping @Sendable (ProbeResult) -> Void = { _ in }) async
        -> [ProbeResult]
    {
        await pool.withWorker { [self] runner in
            var results: [ProbeResult] = []
            results.reserveCapacity(count)
            for _ in 0..<count {
                let run: [ProbeResult]
                switch target {
                case .request(let request): run = [runner.probe(request)]
                case .check(let check, let redactor): run = runner.run(check, redactor: redactor)
                }
                for var result in run {
                    if let budget, result.step == nil { result.budget = budget.outcome(of: result) }
                    onResult(result)
                    results.append(result)
                }
            }
            return results
        }
    }

    /// Flow steps are reported but judged through their flow's own result.
    public func outcome(of results: [ProbeResult]) -> Outcome {
        let whole = results.filter { $0.step == nil }
        if whole.contains(where: { !$0.ok }) { return .probeFailed }
        if let budget, budget.isExceeded(by: PhaseSummary(whole)) { return .overBudget }
        return .ok
    }
}

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

    public var request: ProbeRequest
    public var count: Int
    public var budget: LatencyBudget?

    public init(request: ProbeRequest, count: Int = 1, budget: LatencyBudget? = nil) {
        self.request = request
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
                var result = runner.probe(request)
                if let budget { result.budget = budget.outcome(of: result) }
                onResult(result)
                results.append(result)
            }
            return results
        }
    }

    public func outcome(of results: [ProbeResult]) -> Outcome {
        if results.contains(where: { !$0.ok }) { return .probeFailed }
        if let budget, budget.isExceeded(by: PhaseSummary(results)) { return .overBudget }
        return .ok
    }
}

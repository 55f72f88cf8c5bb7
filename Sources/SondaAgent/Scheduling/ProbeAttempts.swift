import SondaCore

/// A check's `retries`: a failing check is probed again, up to `retries` more times, before it is
/// reported failed. Every attempt is recorded: the check's result (the top-level one, for a flow
/// the last) carries the earlier failed attempts in `attempts`, so the aggregator sees one result
/// per scheduled run, and uptime counts the run, not its retries, while the flakiness stays visible.
public enum ProbeAttempts {
    /// Calls `probe` with the attempt number (from 1) until its check result succeeds or the
    /// retries are spent; returns the last attempt's results.
    public static func run(retries: Int, _ probe: (_ attempt: Int) -> [ProbeResult]) -> [ProbeResult] {
        var failed: [ProbeResult.FailedAttempt] = []
        var attempt = 1
        while true {
            var results = probe(attempt)
            guard let top = results.lastIndex(where: { $0.step == nil }) else { return results }
            if !results[top].ok && attempt <= retries {
                failed.append(ProbeResult.FailedAttempt(results[top]))
                attempt += 1
                continue
            }
            if !failed.isEmpty { results[top].attempts = failed }
            return results
        }
    }
}

import SondaCore

/// Runs a flow's steps in order on one handle, sharing a cookie jar and variables, and sums them
/// up in one result for the whole flow. A failing step stops the flow.
struct FlowRunner {
    let easy: CurlEasy
    let check: CheckSpec
    var profile: NetworkProfile? = nil

    /// One result per step that ran, then the flow's (`step` nil).
    func run(_ steps: [HTTPStep], redactor: SecretRedactor) -> [ProbeResult] {
        guard !steps.isEmpty else {
            return [
                ProbeResult(
                    check: check.name, endpointClass: check.endpointClass, startedAt: .now,
                    error: ProbeError(.internal, "the flow has no steps"), phases: PhaseTimings(total: 0))
            ]
        }
        var redactor = redactor
        var variables: [String: String] = [:]
        var results: [ProbeResult] = []
        let stepRunner = StepRunner(easy: easy, check: check, profile: profile)
        // The check's timeout bounds the whole flow; each step gets what is left of it.
        let deadline = ContinuousClock.now + check.timeout
        easy.clearCookies()
        defer { easy.clearCookies() }
        for step in steps {
            let left = max(deadline - .now, .milliseconds(1))
            let result = stepRunner.run(
                step, name: step.name, variables: &variables, redactor: &redactor, timeout: left, sharesCookies: true)
            results.append(result)
            if !result.ok { break }
        }
        let failed = results.first { !$0.ok }
        let flow = ProbeResult(
            check: check.name, step: nil, endpointClass: check.endpointClass, startedAt: results[0].startedAt,
            error: failed?.error.map { ProbeError($0.code, "step '\(failed?.step ?? "")': \($0.message)") },
            phases: Self.sum(results.map(\.phases)), url: results[0].url)
        // A value extracted by a later step may have shown up earlier: redact everything with all of them.
        return (results + [flow]).map { $0.redacted(by: redactor) }
    }

    /// Per-phase sums; a phase no step reached stays absent.
    static func sum(_ phases: [PhaseTimings]) -> PhaseTimings {
        func total(_ phase: PhaseTimings.Phase) -> Double? {
            let present = phases.compactMap { $0[phase] }
            return present.isEmpty ? nil : present.reduce(0, +)
        }
        return PhaseTimings(
            dns: total(.dns), connect: total(.connect), proxy: total(.proxy), tls: total(.tls), send: total(.send),
            wait: total(.wait), receive: total(.receive), total: phases.map(\.total).reduce(0, +))
    }
}

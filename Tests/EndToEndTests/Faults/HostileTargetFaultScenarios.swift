import Foundation
import TestSupport
import Testing

/// Issue 19's hostile or broken targets, run by the real agent daemon on loopback: every mode of
/// `faults/hostile-target.py` as a check every 5 s (timeout 3 s) beside four well-behaved canaries
/// every second. Each hostile result carries its documented error code within its timeout, the
/// agent's memory stays bounded, and the canaries keep their slots.
@Suite(.serialized) struct HostileTargetFaultScenarios {
    static let timeoutMilliseconds = 3000.0
    /// The agent's resident memory must stay under this (a debug build; about 45 MB at rest).
    static let memoryBoundMegabytes = 100.0
    static let canaryInterval = 1.0

    @Test func hostileTargetsEndRightOnTimeAndMoveNothingElse() async throws {
        let agent = try await LoopbackAgent()
        let target = try await HostileTarget(directory: agent.directory)
        let hostile = try HostileCheck.all.map {
            try $0.yaml(target: target, interval: "5s", timeout: "\(Int(Self.timeoutMilliseconds))ms")
        }
        let canaryURL = try TLSLab.shared().url("http", "/")
        let canaries = (0..<4).map {
            "{name: canary-\($0), class: authentication, interval: 1s, timeout: 900ms, http: {url: \"\(canaryURL)\"}}"
        }
        try agent.write(agent.agentFile(checks: hostile + canaries))
        let noise = SchedulerNoise()
        try await agent.start()
        let sampler = ProcessSampler(agent)
        try await Task.sleep(for: FaultLength.hostile)
        let samples = await sampler.stop()
        let lateness = noise.stop()
        #expect(await agent.stop() == 0, "\(agent.log)")

        let results = agent.results
        let byCheck = Dictionary(grouping: results, by: \.check)
        var wrong: [String] = []
        var late: [String] = []
        for check in HostileCheck.all {
            let runs = byCheck[check.name] ?? []
            #expect(runs.count >= 2, "\(check.name) ran: \(runs.count) results\n\(agent.log)")
            wrong += runs.filter { $0.code != check.code }.map { "\(check.name): \($0.code ?? "ok")" }
            // libcurl checks its deadline between reads: it may overshoot by a few milliseconds.
            late += runs.filter { $0.totalMilliseconds > Self.timeoutMilliseconds + 100 }.map {
                "\(check.name): \($0.totalMilliseconds) ms"
            }
        }
        #expect(wrong.isEmpty, "each hostile result carries its error code: \(wrong)")
        #expect(late.isEmpty, "each ended within its timeout: \(late)")

        let starts = agent.starts
        var deviations: [Double] = []
        for canary in 0..<4 {
            let name = "canary-\(canary)"
            let runs = byCheck[name] ?? []
            #expect(runs.count >= Int(FaultLength.hostile.secondsValue) - 3, "\(name) ran \(runs.count) times")
            #expect(runs.allSatisfy { $0.code == nil }, "\(name) passed: \(runs.compactMap(\.code))")
            deviations += HostileFigures.deviations(starts[name] ?? [], interval: Self.canaryInterval)
        }
        deviations.sort()
        let drift = deviations.last ?? 0
        let p99 = deviations.isEmpty ? 0 : deviations[(deviations.count - 1) * 99 / 100]
        let over = deviations.filter { $0 >= 50 }.count
        // The target is < 50 ms. A busy two-core machine delays a start now and then by tens of
        // milliseconds whatever the targets (60 ms seen beside two CI runs), so 99 % must meet it
        // and none may be 100 ms off, beyond the worst delay the machine gave a sleeping thread of
        // ours in the same seconds.
        let allowance = lateness.worst
        #expect(
            p99 < 50 + allowance && drift < 100 + allowance,
            "the canaries' starts moved by < 50 ms: p99 \(p99), max \(drift) ms; \(lateness)")
        let doubles = starts.map { check, runs in
            HostileFigures.extraRuns(
                runs, interval: check.hasPrefix("canary") ? Self.canaryInterval : 5, from: runs.first ?? 0,
                to: runs.last ?? 0)
        }.reduce(0, +)
        #expect(doubles == 0, "each check ran once per interval")
        let peak = samples.map(\.megabytes).max() ?? 0
        #expect(!samples.isEmpty && peak < Self.memoryBoundMegabytes, "peak RSS \(peak) MB")

        let figures = HostileFigures(
            scenario: "hostile targets \(DurationText.minutes(FaultLength.hostile))", results: results.count,
            wrong: wrong.count, overTimeout: late.count,
            doubleRuns: doubles,
            driftMilliseconds: drift, peakMegabytes: peak, before: samples.first, after: samples.last,
            notes: "\(HostileCheck.all.count) hostile checks every 5 s (timeout 3 s), 4 canaries every 1 s; "
                + "canary starts: p99 \(Int(p99)) ms, \(over) of \(deviations.count) moved ≥ 50 ms; \(lateness)")
        figures.record()
        print(figures)
    }
}

import Foundation
import TestSupport
import Testing

/// Issue 19's wrong clocks: an agent whose clock is ten minutes fast or slow (the test-only
/// `SONDA_TEST_CLOCK_OFFSET_SECONDS`; libfaketime cannot shift a Swift binary here). The aggregator
/// refuses its batches with 409; the agent says so in its log, `/metrics` and `/health`, keeps what
/// it probes, and delivers it, with the times it was stamped with, once its clock is right.
@Suite(.serialized, .enabled(if: FaultNetwork.isAvailable, "needs root, /dev/net/tun and nft"))
struct ClockFaultScenarios {
    @Test(arguments: [600, -600])
    func anAgentWhoseClockIsTenMinutesOff(offsetSeconds: Int) async throws {
        let fleet = try await FaultFleet()
        try await fleet.startAggregator()
        let start = Date()
        try await fleet.startAgent(environment: [
            "SONDA_TEST_FAULTS": "1", "SONDA_TEST_CLOCK_OFFSET_SECONDS": String(offsetSeconds),
        ])
        var health = (status: 0, body: "")
        let surfaced = await eventually {
            health = await fleet.agentGet("/health")
            let faults = await fleet.agentMetric(#"sonda_faults_total{cause="clock_skew"}"#) ?? 0
            let probes = await fleet.agentMetric("sonda_probes_total") ?? 0
            return health.body.contains(#""cause":"clock_skew""#) && faults >= 1 && probes >= 10
        }
        let log = fleet.agent?.log ?? ""
        #expect(surfaced, "the refusal shows in /health and /metrics: \(health)\n\(log)")
        #expect(
            health.status == 200 && health.body.contains(#""status":"degraded""#),
            "degraded, not failing: a restart does not fix a clock: \(health)")
        #expect(log.contains("clock_skew: the aggregator refuses this agent's clock"), "\(log)")
        #expect(log.contains("HTTP 409 replay: signature timestamp is"), "\(log)")
        #expect(try await fleet.stored().probes == 0, "nothing was stored under the wrong clock")

        // The clock is fixed: the agent starts again on the system's clock, with its spool.
        try await fleet.stopAgent()
        let fixed = ContinuousClock.now
        try await fleet.startAgent()
        let recovery = await fleet.awaitDelivery(since: fixed)
        let sign = offsetSeconds > 0 ? "fast" : "slow"
        let figures = try await fleet.finish("agent clock 10 min \(sign)", recovery: recovery)
        #expect(figures.lost == 0 && figures.duplicated == 0 && figures.dropped == 0, "\(figures)")
        #expect(figures.falsePages == 0 && figures.missedPages == 0, "\(figures)")
        #expect((figures.recoverySeconds ?? .infinity) <= 120, "\(figures)")
        // Results keep the times they were stamped with: some are ten minutes off the real clock.
        let skewed = try await ChildProcess.run(
            "/usr/bin/sqlite3",
            [
                "-readonly", fleet.database,
                "SELECT count(*) FROM results WHERE abs(started_at_ms - \(Int(start.timeIntervalSince1970 * 1000)) - \(offsetSeconds * 1000)) < 120000",
            ])
        #expect((Int(skewed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 10, "\(skewed)")
    }
}

import Foundation
import Logging
import SondaConfig
import Testing

@testable import SondaAgent

@Suite struct ProbeSchedulerTests {
    /// Windows are fixed slices of the scheduler's clock: a job's window does not depend on which
    /// job came due first, so its start moves by the same amount every round.
    @Test func windowsAreFixedSlicesOfTheClock() {
        let window = Duration.milliseconds(200)
        #expect(ProbeScheduler.opening(of: .zero, window: window) == .zero)
        #expect(ProbeScheduler.opening(of: .milliseconds(199), window: window) == .zero)
        #expect(ProbeScheduler.opening(of: .milliseconds(200), window: window) == .milliseconds(200))
        #expect(ProbeScheduler.opening(of: .milliseconds(10_123), window: window) == .milliseconds(10_000))
        // A slot and the same slot an interval (a multiple of the window) later open alike.
        let slot = Duration.milliseconds(3_456)
        #expect(slot - ProbeScheduler.opening(of: slot, window: window)
            == slot + .seconds(10) - ProbeScheduler.opening(of: slot + .seconds(10), window: window))
    }

    /// `isIdle(for:)` decides when the agent gives back its code pages: only when no job comes due
    /// within the span.
    @Test func idleOnlyWhenNoJobComesDueWithinTheSpan() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idle-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/agent.yaml"
        try """
            agent: {id: idle-test, region: sao_paulo}
            profiles: [none]
            checks:
              - {name: hourly, class: authentication, interval: 1h, http: {url: "http://127.0.0.1:9/"}}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        var loader = ConfigLoader()
        let loaded = loader.loadAgent(path: file)
        let config = try #require(loaded, "\(loader.diagnosticsText)")
        let scheduler = ProbeScheduler(
            config: config, workers: 1, spool: try ResultSpool(directory: directory + "/spool"), metrics: AgentMetrics(),
            logger: Logger(label: "test"))

        // The check's first run is at its jitter within the hour, from the scheduler's start.
        let due = ProbeSchedule.jitter(config.id, ProbeSchedule.Job(check: "hourly", profile: "none"), within: .seconds(3600))
        try #require(due > .seconds(120), "this agent id puts the first run \(due) in")
        #expect(scheduler.isIdle(for: .seconds(60)))
        #expect(scheduler.isIdle(for: due - .seconds(60)))  // a minute to spare for a slow test thread
        #expect(!scheduler.isIdle(for: due + .seconds(1)))
    }
}

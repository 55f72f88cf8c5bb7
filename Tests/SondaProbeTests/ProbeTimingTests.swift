import Foundation
import SondaCore
import SondaProbe
import TestSupport
import Testing

/// Probes whose assertions are about time. `make test` runs the timing suites on their own, after
/// the rest, so a loaded two-core machine does not decide the outcome.
@Suite(.serialized) struct ProbeTimingTests {
    static let pool = ProbeWorkerPool(workers: 1)

    func probe(_ request: ProbeRequest) async -> ProbeResult { await Self.pool.probe(request) }

    @Test func waitMeasuresAKnownServerDelay() async throws {
        let lab = try TLSLab.shared()
        let result = await probe(ProbeRequest(url: lab.url("tls13", "/delay/100"), caFile: lab.ca))
        let wait = try #require(result.phases.wait)
        // nginx arms its timer from a cached clock that lags by its own event-loop work, so under
        // the parallel test load it may fire a few milliseconds early; bench/ measures accuracy.
        #expect(wait >= 90 && wait < 150, "wait \(wait) ms for a 100 ms server delay")
    }

    @Test func hungServerTimesOutWithinFiftyMillisecondsOfTheSetting() async throws {
        let silent = try SilentListener()
        let ownPool = ProbeWorkerPool(workers: 1)
        defer { ownPool.shutdown() }
        let started = ContinuousClock.now
        let result = await ownPool.probe(
            ProbeRequest(url: "https://localhost:\(silent.port)/", timeout: .milliseconds(300), caFile: nil))
        let elapsed = (ContinuousClock.now - started).milliseconds
        #expect(result.error?.code == .timeout)
        #expect(abs(result.phases.total - 300) < 50, "total \(result.phases.total) ms")
        // Wall time also counts waiting for a free test thread, so it only shows the probe did not hang.
        #expect(elapsed < 2000)
        #expect(result.phases.connect != nil && result.phases.tls != nil && result.phases.wait == nil)
    }

    @Test func unansweredConnectIsAConnectTimeout() async throws {
        let silent = try SilentListener(backlog: 0)
        try silent.fillBacklog()
        let result = await probe(
            ProbeRequest(url: "http://127.0.0.1:\(silent.port)/", timeout: .milliseconds(300)))
        #expect(result.error?.code == .connectTimeout, "\(result.error?.description ?? "ok")")
        #expect(result.phases.connect != nil && result.phases.send == nil)
        #expect(abs(result.phases.total - 300) < 50)
    }
}

import Crypto
import Foundation
import Logging
import ServiceLifecycle
import SondaCore
import TestSupport
import Testing

@testable import SondaAgent

/// The reporter in this process, with a real spool, sending signed batches over HTTP to the test
/// receiver.
@Suite struct ReporterTests {
    /// A reporter running in a service group, until `stop()`.
    final class Running: Sendable {
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let metrics: AgentMetrics

        init(spool: ResultSpool, urls: [String], key: Curve25519.Signing.PrivateKey, agent: String) {
            var logger = Logger(label: "reporter-test")
            logger.logLevel = .error
            let metrics = AgentMetrics()
            let reporter = Reporter(
                aggregatorURLs: urls, caFile: nil, signer: BatchSigner(agentID: agent, key: key), spool: spool,
                metrics: metrics, configHash: "test", logger: logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: reporter)], logger: logger))
            self.group = group
            self.metrics = metrics
            task = Task { try await group.run() }
        }

        /// A counter of the reporter's `/metrics`.
        func sample(_ name: String) -> Double {
            let line = metrics.render().split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    /// Results dropped from a full spool while the aggregator is away are counted in a heartbeat
    /// it acknowledges: a heartbeat whose POST failed hands its count on to the next.
    @Test func resultsDroppedDuringAnOutageAreReportedOnceTheAggregatorIsBack() async throws {
        let directory = SpoolTestDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let down = directory.path + "/receiver-down"
        try Data().write(to: URL(fileURLWithPath: down))
        let key = Curve25519.Signing.PrivateKey()
        let receiver = try await TestReceiver(
            agent: "r1", publicKey: AgentKey.publicKeyText(key), directory: directory.path, downWhileExists: down)
        // One result a batch file, sealed at once; room for seven: the eighth drops the oldest.
        let line = SpoolSamples.lineLength
        let spool = try ResultSpool(
            directory: directory.path + "/spool",
            configuration: SpoolConfiguration(
                maxResultsPerBatch: 1, maxBatchAge: .seconds(3600), maxBytes: 7 * line))
        let reporter = Running(spool: spool, urls: [receiver.url], key: key, agent: "r1")

        try spool.append(SpoolSamples.results(1...1))  // sent at once, refused with 503
        #expect(await eventually { reporter.sample("sonda_send_failures_total") >= 1 })
        try spool.append(SpoolSamples.results(2...12))
        let dropped = spool.droppedTotal
        #expect(dropped == 5, "the cap kept seven results")
        // A POST built before the drops may still be in flight; the one after it carries them.
        let failed = reporter.sample("sonda_send_failures_total")
        #expect(await eventually { reporter.sample("sonda_send_failures_total") >= failed + 2 })

        try FileManager.default.removeItem(atPath: down)
        let delivered = await eventually { spool.depth == 0 && receiver.heartbeatTotal("dropped") >= dropped }
        try await reporter.stop()
        #expect(delivered, "dropped \(dropped), the aggregator heard of \(receiver.heartbeatTotal("dropped"))")
        #expect(receiver.heartbeatTotal("dropped") == dropped, "counted once")
        #expect(Set(receiver.resultIDs).count == 12 - dropped, "every result the cap kept arrived")
        #expect(spool.unreportedCounts().dropped == 0)
    }

    /// A batch the aggregator refuses for good (400) is set aside in the quarantine instead of
    /// blocking the spool: the next batch goes, and the next heartbeat counts what was set aside.
    @Test func aRefusedBatchIsQuarantinedAndTheNextOneGoes() async throws {
        let directory = SpoolTestDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let key = Curve25519.Signing.PrivateKey()
        let receiver = try await TestReceiver(
            agent: "r2", publicKey: AgentKey.publicKeyText(key), directory: directory.path, refuseCheck: "poison")
        let spool = try ResultSpool(
            directory: directory.path + "/spool",
            configuration: SpoolConfiguration(maxResultsPerBatch: 2, maxBatchAge: .seconds(3600)))
        var refused = SpoolSamples.results(1...2)
        refused[1].check = "poison"
        try spool.append(refused)
        try spool.append(SpoolSamples.results(3...4))
        let reporter = Running(spool: spool, urls: [receiver.url], key: key, agent: "r2")

        let settled = await eventually { spool.depth == 0 && receiver.heartbeatTotal("quarantined") == 2 }
        try await reporter.stop()
        #expect(settled, "\(receiver.batches)")
        #expect(receiver.resultIDs == SpoolSamples.ids(3...4))
        #expect(reporter.sample("sonda_quarantined_results_total") == 2)
        #expect(reporter.sample("sonda_quarantined_batches_total") == 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: spool.quarantinePath).sorted()
        #expect(files.count == 2 && files[0].hasSuffix(".error.json") && files[1].hasSuffix(".jsonl"), "\(files)")
        let kept = try String(contentsOfFile: spool.quarantinePath + "/" + files[1], encoding: .utf8)
        #expect(
            kept.split(separator: "\n").map { $0.contains(#""id":"r-000001""#) || $0.contains(#""id":"r-000002""#) }
                == [true, true])
        let explanation = try String(contentsOfFile: spool.quarantinePath + "/" + files[0], encoding: .utf8)
        #expect(explanation.contains(#""message":"$.results[1] is refused by the test""#), "\(explanation)")
        #expect(explanation.contains(#""code":"malformed""#) && explanation.contains(#""status":400"#))
    }

    /// While no aggregator answers, the reporter waits out its backoff: new batches (the spool's
    /// news) do not make it retry sooner, or a busy agent would retry at every batch.
    @Test func newBatchesDoNotCutABackoffShort() async throws {
        let directory = SpoolTestDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let down = directory.path + "/receiver-down"
        try Data().write(to: URL(fileURLWithPath: down))
        let key = Curve25519.Signing.PrivateKey()
        let receiver = try await TestReceiver(
            agent: "r3", publicKey: AgentKey.publicKeyText(key), directory: directory.path, downWhileExists: down)
        let spool = try ResultSpool(
            directory: directory.path + "/spool",
            configuration: SpoolConfiguration(maxResultsPerBatch: 1, maxBatchAge: .seconds(3600)))
        let reporter = Running(spool: spool, urls: [receiver.url], key: key, agent: "r3")
        try spool.append(SpoolSamples.results(1...1))
        #expect(await eventually { reporter.sample("sonda_send_failures_total") >= 1 })
        // Forty new batches, each one news: retried at each, the failures would be about forty;
        // backing off (1 s, 2 s, 4 s …), a handful at most. Appended from a thread of their own:
        // on the test process's busy pool forty sleeps could take minutes, and the backoff with them.
        await onThread {
            for number in 2...41 {
                try! spool.append(SpoolSamples.results(number...number))
                usleep(10_000)
            }
        }
        let failures = reporter.sample("sonda_send_failures_total")
        try FileManager.default.removeItem(atPath: down)
        let delivered = await eventually { spool.depth == 0 }
        try await reporter.stop()
        #expect(failures < 10, "\(failures) attempts while the aggregator was down")
        #expect(delivered && Set(receiver.resultIDs) == Set(SpoolSamples.ids(1...41)))
    }
}

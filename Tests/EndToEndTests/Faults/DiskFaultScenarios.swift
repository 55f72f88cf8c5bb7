import Foundation
import TestSupport
import Testing

/// Issue 19's full disks: the agent's spool filesystem and the aggregator's database filesystem,
/// each a small tmpfs the scenario fills with a file and frees again.
@Suite(.serialized, .enabled(if: FaultNetwork.isAvailable, "needs root, /dev/net/tun and nft"))
struct DiskFaultScenarios {
    typealias SmallDisk = AgentSpoolFaultTests.SmallDisk

    /// The aggregator is out of reach while the spool's disk is full, so the spool must make room
    /// itself: it drops its oldest results, counts them, and the probes go on.
    @Test func theAgentsSpoolDiskFills() async throws {
        let fleet = try await FaultFleet()
        let disk = try await SmallDisk(at: fleet.directory + "/disk", kilobytes: 256)
        defer { withExtendedLifetime(disk) {} }
        try await fleet.startAggregator()
        try await fleet.startAgent(spool: "disk/spool")
        #expect(await fleet.awaitStored(5), "\(fleet.agent?.log ?? "")")

        // The aggregator out of reach, the spool grows; then something else takes the rest of the disk.
        try await fleet.network.partition()
        let spool = fleet.directory + "/disk/spool"
        let growing = await eventually {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []
            return files.filter { $0.hasSuffix(".jsonl") }.count >= 3
        }
        #expect(growing, "\(fleet.agent?.log ?? "")")
        try await disk.fill()
        var health = (status: 0, body: "")
        let full = await eventually {
            health = await fleet.agentGet("/health")
            return health.body.contains(#""cause":"spool_disk_full""#)
        }
        #expect(full, "the spool made room on the full disk: \(health)\n\(fleet.agent?.log ?? "")")
        let before = await fleet.agentMetric("sonda_probes_total") ?? 0
        try await Task.sleep(for: FaultLength.diskFull)
        let after = await fleet.agentMetric("sonda_probes_total") ?? 0
        #expect(after >= before + 2 * FaultLength.diskFull.secondsValue * 0.8, "probes went on: \(before) → \(after)")

        try disk.free()
        let healed = ContinuousClock.now
        try await fleet.network.heal()
        let recovery = await fleet.awaitDelivery(since: healed)
        let figures = try await fleet.finish(
            "agent's spool disk full \(DurationText.minutes(FaultLength.diskFull))", recovery: recovery)
        #expect(figures.lost == 0, "\(figures)")
        #expect(figures.duplicated == 0, "\(figures)")
        #expect(figures.dropped > 0, "the oldest results were dropped and counted: \(figures)")
        #expect(figures.falsePages == 0 && figures.missedPages == 0, "\(figures)")
        #expect((figures.recoverySeconds ?? .infinity) <= 120, "\(figures)")
    }

    /// The database's disk fills: ingest answers 503 (the agent keeps its batches), reads go on,
    /// and once there is room everything arrives and the audit chain is whole.
    @Test func theAggregatorsDatabaseDiskFills() async throws {
        let directory = NSTemporaryDirectory() + "sonda-fault-db-\(UUID().uuidString)"
        let disk = try await SmallDisk(at: directory, kilobytes: 8 * 1024)
        defer { withExtendedLifetime(disk) {} }
        let fleet = try await FaultFleet(databaseDirectory: directory)
        try await fleet.startAggregator()
        try await fleet.startAgent()
        #expect(await fleet.awaitStored(5), "\(fleet.agent?.log ?? "")")

        try await disk.fill()
        let refused = await eventually { fleet.agent?.log.contains("HTTP 503") == true }
        #expect(refused, "ingest answers 503:\n\(fleet.agent?.log ?? "")\n\(fleet.aggregator?.log ?? "")")
        let read = await fleet.aggregatorGet("/v1/checks/up/results?limit=5")
        #expect(read.status == 200, "reads keep working: \(read)")
        try await Task.sleep(for: FaultLength.diskFull)

        try disk.free()
        let recovery = await fleet.awaitDelivery(since: .now)
        let figures = try await fleet.finish(
            "aggregator's database disk full \(DurationText.minutes(FaultLength.diskFull))", recovery: recovery)
        #expect(figures.lost == 0, "\(figures)")
        #expect(figures.duplicated == 0, "\(figures)")
        #expect(figures.dropped == 0, "\(figures)")
        #expect(figures.falsePages == 0 && figures.missedPages == 0, "\(figures)")
        #expect((figures.recoverySeconds ?? .infinity) <= 120, "\(figures)")
        let audit = try await AggregatorEndToEndTests.cli("audit", "verify", "--database", fleet.database)
        #expect(audit.status == 0 && audit.stdout.hasPrefix("audit chain intact"), "\(audit.stdout)\(audit.stderr)")
    }
}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

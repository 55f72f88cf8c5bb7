import Foundation
import TestSupport
import Testing

/// One `serve` per SQLite file, and an `audit verify` that reads without writing: a second writer
/// on the file, or a verify that migrated and folded pending rollups, could count rollups twice.
@Suite struct SQLiteExclusiveTests {
    @Test func aSecondServeOnTheSameFileStopsAndAuditVerifyChangesNothing() async throws {
        let directory = NSTemporaryDirectory() + "sonda-exclusive-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            agents: [{id: bench, region: sao_paulo, public_key: "\(publicKey)"}]
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"])
        let port = try await serve.port(writtenTo: "\(directory)/port")
        let load = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port", "\(port)",
                "--key", "\(directory)/agent.key", "--senders", "1", "--batch", "20", "--batches", "3", "--lazy",
            ])
        #expect(load.status == 0, "\(load.stderr)")

        let second = try await ChildProcess.run(
            AggregatorEndToEndTests.aggregatorBinary, ["serve", "--config", "\(directory)/aggregator.yaml"])
        #expect(second.status == 78)
        #expect(second.stderr.contains("is in use by another sonda-aggregator serve"), "\(second.stderr)")
        let health = try await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/health"])
        #expect(health.stdout == #"{"status":"ok"}"#, "the first one keeps serving")

        serve.signal(SIGTERM)
        #expect(await serve.wait() == 0)
        let before = FileManager.default.contents(atPath: "\(directory)/sonda.sqlite")
        let audit = try await ChildProcess.run(
            AggregatorEndToEndTests.aggregatorBinary, ["audit", "verify", "--config", "\(directory)/aggregator.yaml"])
        #expect(audit.status == 0 && audit.stdout.contains("audit chain intact: 4 entries"), "\(audit.stdout)\(audit.stderr)")
        // SQLite may create its empty shared-memory and log files beside a WAL database it reads.
        #expect(FileManager.default.contents(atPath: "\(directory)/sonda.sqlite") == before, "audit verify wrote nothing")
        #expect((FileManager.default.contents(atPath: "\(directory)/sonda.sqlite-wal") ?? Data()).isEmpty)
    }

    /// A port another socket holds: one clear line and exit 78, nothing about the services that
    /// were stopped on the way out, and the database left whole.
    @Test func anAddressInUseIsAClearStartError() async throws {
        let directory = NSTemporaryDirectory() + "sonda-bind-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let taken = try RefusingPort()
        try """
            listen: 127.0.0.1:\(taken.port)
            database: sonda.sqlite
            agents: []
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let serve = try await ChildProcess.run(
            AggregatorEndToEndTests.aggregatorBinary, ["serve", "--config", "\(directory)/aggregator.yaml"])
        withExtendedLifetime(taken) {}
        #expect(serve.status == 78, "\(serve.stderr)")
        #expect(
            serve.stderr.contains("sonda-aggregator: error: cannot listen on 127.0.0.1:\(taken.port): Address already in use"),
            "\(serve.stderr)")
        #expect(!serve.stderr.contains("Cancellation") && !serve.stderr.contains(" error sonda-aggregator"), "\(serve.stderr)")
        #expect((FileManager.default.contents(atPath: "\(directory)/sonda.sqlite-wal") ?? Data()).isEmpty)
    }
}

import Foundation
import TestSupport
import Testing

/// kill -9 under load: every result the aggregator acknowledged is in the database after restart,
/// and the rollups (partly in memory at the kill) count each stored result exactly once.
@Suite(.serialized) struct AggregatorCrashTests {
    @Test func killNineUnderLoadLosesNoAcknowledgedResult() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            agents: [{id: bench, region: sao_paulo, public_key: "\(publicKey)"}]
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)

        func start() async throws -> (BackgroundProcess, Int) {
            try? FileManager.default.removeItem(atPath: "\(directory)/port")
            let process = try BackgroundProcess(
                AggregatorEndToEndTests.aggregatorBinary,
                ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"])
            return (process, try await process.port(writtenTo: "\(directory)/port"))
        }

        let (aggregator, port) = try await start()
        // A million results, each batch signed as it is sent (--lazy): the load starts at once,
        // and the kill lands long before the end however fast the aggregator is.
        let total = 1_000_000
        let load = try BackgroundProcess(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port", "\(port)",
                "--key", "\(directory)/agent.key", "--senders", "4", "--batch", "100", "--batches", "\(total / 100)",
                "--lazy", "--acked-out", "\(directory)/acked", "--until-down",
            ])
        func acked() -> [Substring] {
            ((try? String(contentsOfFile: "\(directory)/acked", encoding: .utf8)) ?? "").split(separator: "\n")
        }
        // Kill it once a thousand results are acknowledged (or the load generator gave up).
        _ = await eventually(every: .milliseconds(25)) { acked().count >= 1_000 || load.exitStatus != nil }
        aggregator.signal(SIGKILL)
        _ = await aggregator.wait()
        #expect(await load.wait() == 0, "\(load.log)")
        let acknowledged = acked()
        #expect(acknowledged.count >= 1_000, "load ran before the kill: \(load.log)")
        #expect(acknowledged.count < total, "the kill came mid-load")

        let (restarted, newPort) = try await start()
        defer { restarted.signal(SIGTERM) }
        let check = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                stored = {r[0] for r in db.execute("SELECT id FROM results")}
                acked = open(sys.argv[2]).read().split()
                rolled = db.execute("SELECT SUM(count) FROM outcome_minute").fetchone()[0]
                hourly = db.execute("SELECT SUM(count) FROM outcome_hour").fetchone()[0]
                print(len([i for i in acked if i not in stored]), rolled == hourly == len(stored), len(stored))
                """,
                "\(directory)/sonda.sqlite", "\(directory)/acked",
            ])
        let numbers = check.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(numbers.first == 0, "acknowledged results missing after kill -9: \(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains(" True "), "rollups count every stored result once after recovery: \(check.stdout)")
        #expect((numbers.last ?? 0) >= acknowledged.count)
        let health = try await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(newPort)/health"])
        #expect(health.stdout == #"{"status":"ok"}"#)
    }
}

import Foundation
import TestSupport
import Testing

/// kill -9 under load: every result the aggregator acknowledged is in the database after restart,
/// and the rollups (partly in memory at the kill, on SQLite) count each stored result exactly once.
@Suite(.serialized) struct AggregatorCrashTests {
    @Test(arguments: ["sqlite", "postgres"])
    func killNineUnderLoadLosesNoAcknowledgedResult(store: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sonda-crash-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
        listen: 127.0.0.1:0
        database: "\(store == "sqlite" ? "sonda.sqlite" : try await PostgresServer.database())"
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
        let stored: Set<Substring>
        let rollupsExact: Bool
        if store == "sqlite" {
            let db = "\(directory)/sonda.sqlite"
            stored = Set(
                try await ChildProcess.run("/usr/bin/sqlite3", [db, "SELECT id FROM results"]).stdout.split(
                    separator: "\n"))
            rollupsExact =
                try await ChildProcess.run(
                    "/usr/bin/sqlite3",
                    [
                        db,
                        """
                        SELECT (SELECT SUM(count) FROM outcome_minute) = (SELECT COUNT(*) FROM results)
                           AND (SELECT SUM(count) FROM outcome_hour) = (SELECT COUNT(*) FROM results)
                        """,
                    ]
                ).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        } else {
            let url = try #require(
                try String(contentsOfFile: "\(directory)/aggregator.yaml", encoding: .utf8)
                    .firstMatch(of: /database: "([^"]+)"/)
            ).output.1
            stored = Set(try await PostgresServer.psql(String(url), "SELECT id FROM results").split(separator: "\n"))
            rollupsExact = try await PostgresServer.psql(String(url), PostgresServer.rollupsCountEveryResultOnce) == "t"
        }
        #expect(acknowledged.filter { !stored.contains($0) }.isEmpty, "acknowledged results missing after kill -9")
        #expect(rollupsExact, "rollups count every stored result once after recovery")
        #expect(stored.count >= acknowledged.count)
        let health = try await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(newPort)/health"])
        #expect(health.stdout == #"{"status":"ok"}"#)
    }
}

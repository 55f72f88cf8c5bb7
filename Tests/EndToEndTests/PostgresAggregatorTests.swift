import Foundation
import Synchronization
import TestSupport
import Testing

/// `sonda-aggregator serve` on a PostgreSQL server of the test's own (so it can stop it): results
/// ingested and answered, audit verified from the command line, and a server that goes away
/// answered with 503 and a reason until it is back, without a restart.
@Suite struct PostgresAggregatorTests {
    @Test func servesFromPostgreSQLAndAnswers503WhileTheServerIsDown() async throws {
        let cluster = try await DedicatedPostgres()
        defer { withExtendedLifetime(cluster) {} }
        let url = cluster.url
        func pgctl(_ action: String) async throws { try await cluster.control(action) }

        let directory = NSTemporaryDirectory() + "sonda-pg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        // The password comes from the environment, as a real install would write it.
        let withPassword = url.replacingOccurrences(of: "sonda@", with: "sonda:${env:SONDA_TEST_DB_PASSWORD}@")
        try """
            listen: 127.0.0.1:0
            database: "\(withPassword)"
            agents: [{id: bench, region: sao_paulo, public_key: "\(publicKey)"}]
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let environment = ["SONDA_TEST_DB_PASSWORD": "hunter2-secret"]

        let validate = try await ChildProcess.run(
            AggregatorEndToEndTests.aggregatorBinary, ["validate", "\(directory)/aggregator.yaml"],
            environment: environment)
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("database postgres://sonda:***@127.0.0.1:"), "\(validate.stdout)")
        #expect(!validate.stdout.contains("hunter2-secret"))

        let aggregator = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"],
            environment: environment)
        defer { aggregator.signal(SIGTERM) }
        let port = try await aggregator.port(writtenTo: "\(directory)/port")
        let load = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port", "\(port)",
                "--key", "\(directory)/agent.key", "--senders", "2", "--batch", "50", "--batches", "20", "--lazy",
            ])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdout.hasPrefix("1000 "), "\(load.stdout)")
        let agents = try await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/v1/agents"])
        #expect(agents.stdout.contains(#""results":1000"#), "\(agents.stdout)")
        // Each batch's entry joins the chain within a second or two of its commit (the lease holder links it).
        let audit = Mutex("")
        let linked = await eventually {
            let verify = try? await ChildProcess.run(
                AggregatorEndToEndTests.aggregatorBinary, ["audit", "verify", "--config", "\(directory)/aggregator.yaml"],
                environment: environment)
            audit.withLock { $0 = "\(verify?.stdout ?? "")\(verify?.stderr ?? "")" }
            return verify?.stdout == "audit chain intact: 21 entries\n"
        }
        #expect(linked, "\(audit.withLock { $0 })")

        try await pgctl("stop")
        let down = try await ChildProcess.run(
            "/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/health"])
        #expect(down.lines.last == "503", "\(down.stdout)")
        #expect(down.stdout.contains(#""code":"database_unavailable""#), "\(down.stdout)")
        #expect(!down.stdout.contains("hunter2-secret"))
        let refused = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port", "\(port)",
                "--key", "\(directory)/agent.key", "--senders", "1", "--batch", "10", "--batches", "1", "--lazy",
            ])
        #expect(refused.status != 0 && refused.stderr.contains("503"), "a batch is refused, not acknowledged")

        try await pgctl("start")
        #expect(
            await eventually {
                (try? await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/health"]))?.stdout
                    == #"{"status":"ok"}"#
            }, "healthy again once the server is back, without a restart")
        let after = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port", "\(port)",
                "--key", "\(directory)/agent.key", "--senders", "1", "--batch", "10", "--batches", "1", "--lazy",
            ])
        #expect(after.status == 0 && after.stdout.hasPrefix("10 "), "\(after.stdout)\(after.stderr)")
        #expect(aggregator.log.contains("database unavailable"), "the outage is logged")
        #expect(!aggregator.log.contains("hunter2-secret"))
    }

    @Test func aMissingDatabaseIsOneClearLineAndExit78() async throws {
        let server = try await PostgresServer.database()
        let missing = server[..<server.lastIndex(of: "/")!] + "/no_such_database"
        let directory = NSTemporaryDirectory() + "sonda-pg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            listen: 127.0.0.1:0
            database: "\(missing)"
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let serve = try await ChildProcess.run(
            AggregatorEndToEndTests.aggregatorBinary, ["serve", "--config", "\(directory)/aggregator.yaml"])
        #expect(serve.status == 78)
        #expect(serve.stderr.contains(#"database "no_such_database" does not exist"#), "\(serve.stderr)")
        #expect(serve.stderr.split(separator: "\n").count == 1, "one line: \(serve.stderr)")

        try """
            listen: 127.0.0.1:0
            database: "postgres://127.0.0.1/sonda?sslmode=sometimes"
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let validate = try await ChildProcess.run(
            AggregatorEndToEndTests.aggregatorBinary, ["validate", "\(directory)/aggregator.yaml"])
        #expect(validate.status == 78)
        #expect(validate.stderr.contains("aggregator.yaml:2:11: error: 'database':"), "\(validate.stderr)")
    }
}

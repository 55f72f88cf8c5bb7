import Foundation
import TestSupport
import Testing

/// Moving an install: `serve` on SQLite takes signed batches and is stopped, `migrate --to`
/// copies its file into PostgreSQL, and `serve` on the PostgreSQL URL answers the same agents,
/// budgets and uptime, with an audit chain that verifies and goes on. Migrating into the same
/// database again is refused, and so is a server that cannot be reached, each in one line.
@Suite struct MigrateCommandTests {
    @Test func servingFromTheMigratedDatabaseAnswersAsTheSQLiteFileDid() async throws {
        let directory = NSTemporaryDirectory() + "sonda-migrate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        let url = try await PostgresServer.database()
        for (name, database) in [("sqlite", "sonda.sqlite"), ("postgres", url)] {
            try """
            listen: 127.0.0.1:0
            database: "\(database)"
            agents: [{id: bench, region: sao_paulo, public_key: "\(publicKey)"}]
            budgets:
              - {class: authentication, phase: total, quantile: p95, limit: 100ms}
              - {class: reporting, phase: total, quantile: p95, limit: 1s}
            """.write(toFile: "\(directory)/\(name).yaml", atomically: true, encoding: .utf8)
        }

        let onSQLite = try await Self.serve("\(directory)/sqlite.yaml", directory: directory)
        let load = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port",
                "\(onSQLite.port)", "--key", "\(directory)/agent.key", "--senders", "2", "--batch", "50", "--batches",
                "20", "--lazy",
            ])
        #expect(load.status == 0 && load.stdout.hasPrefix("1000 "), "\(load.stdout)\(load.stderr)")
        let before = try await Self.answers(port: onSQLite.port)
        onSQLite.process.signal(SIGTERM)
        #expect(await onSQLite.process.wait() == 0, "\(onSQLite.process.log)")
        let sqliteAudit = try await AggregatorEndToEndTests.cli(
            "audit", "verify", "--database", "\(directory)/sonda.sqlite")
        let entries = try #require(sqliteAudit.stdout.firstMatch(of: /intact: (\d+) entries/)).output.1

        let migrate = try await AggregatorEndToEndTests.cli(
            "migrate", "--config", "\(directory)/sqlite.yaml", "--to", url)
        #expect(migrate.status == 0, "\(migrate.stdout)\(migrate.stderr)")
        #expect(migrate.stderr.contains("migrate: results: 1000 of 1000 rows copied"), "\(migrate.stderr)")
        #expect(migrate.stdout.contains("audit chain intact: \(entries) entries"), "\(migrate.stdout)")
        #expect(migrate.lines.contains { $0.split(separator: " ") == ["results", "1000"] }, "\(migrate.stdout)")

        let onPostgres = try await Self.serve("\(directory)/postgres.yaml", directory: directory)
        defer { onPostgres.process.signal(SIGTERM) }
        let after = try await Self.answers(port: onPostgres.port)
        #expect(after.agents == before.agents)
        #expect(after.budgets == before.budgets && before.budgets.contains(#""class":"reporting""#), "\(after.budgets)")
        #expect(after.uptime == before.uptime && before.uptime.contains(#""total":50"#), "\(after.uptime)")
        let audit = try await AggregatorEndToEndTests.cli("audit", "verify", "--database", url)
        #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
        // The start's entry, and those of alerts the evaluator raises from results it had not read yet, link on.
        let grown = try #require(audit.stdout.firstMatch(of: /intact: (\d+) entries/)).output.1
        #expect(Int(grown)! > Int(entries)!, "\(audit.stdout)")

        let again = try await AggregatorEndToEndTests.cli(
            "migrate", "--database", "\(directory)/sonda.sqlite", "--to", url)
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("sonda-aggregator: error: postgres://sonda@127.0.0.1:"), "\(again.stderr)")
        #expect(
            again.stderr.contains("already holds results") && again.stderr.contains("DROP DATABASE"), "\(again.stderr)")
        #expect(again.stderr.split(separator: "\n").count == 1 && again.stdout.isEmpty, "one line: \(again.stderr)")
    }

    @Test func aWrongURLOrAnUnreachableServerIsOneLineWithoutThePassword() async throws {
        let directory = NSTemporaryDirectory() + "sonda-migrate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = "\(directory)/sonda.sqlite"
        let missing = try await AggregatorEndToEndTests.cli(
            "migrate", "--database", database, "--to", "postgres://a@b/c")
        #expect(missing.status == 66 && missing.stderr.contains("no database at"), "\(missing.stderr)")

        // A file `serve` created: migrate reads it without starting a server.
        try "listen: 127.0.0.1:0\ndatabase: sonda.sqlite\n".write(
            toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let created = try await Self.serve("\(directory)/aggregator.yaml", directory: directory)
        created.process.signal(SIGTERM)
        _ = await created.process.wait()

        let wrongURL = try await AggregatorEndToEndTests.cli(
            "migrate", "--database", database, "--to", "postgres://127.0.0.1/sonda")
        #expect(wrongURL.status == 64 && wrongURL.stderr.contains("names no user"), "\(wrongURL.stderr)")

        let port = try refusedLoopbackPort()
        let unreachable = try await AggregatorEndToEndTests.cli(
            "migrate", "--database", database, "--to", "postgres://sonda:hunter2-secret@127.0.0.1:\(port)/sonda")
        #expect(unreachable.status == 69, "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("postgres://sonda:***@127.0.0.1:\(port)/sonda"), "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains("hunter2-secret"))
        #expect(unreachable.stderr.split(separator: "\n").count == 1, "one line: \(unreachable.stderr)")
    }

    @Test func storedResultsThatNoLongerDecodeAreListedWithAWarning() async throws {
        let directory = NSTemporaryDirectory() + "sonda-migrate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = "\(directory)/sonda.sqlite"
        try "listen: 127.0.0.1:0\ndatabase: sonda.sqlite\n".write(
            toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let created = try await Self.serve("\(directory)/aggregator.yaml", directory: directory)
        created.process.signal(SIGTERM)
        #expect(await created.process.wait() == 0, "\(created.process.log)")
        // A result this release cannot read (written by hand, or by a newer release), not yet rolled up.
        let insert = try await ChildProcess.run(
            "/usr/bin/sqlite3",
            [
                database,
                """
                INSERT INTO results (id, agent, check_name, region, profile, class, started_at_ms, ok, total_ms, json)
                VALUES ('broken', 'sp', 'health', 'sao_paulo', 'none', 'authentication', 0, 1, 1, '{"id":');
                """,
            ])
        #expect(insert.status == 0, "\(insert.stderr)")

        let migrate = try await AggregatorEndToEndTests.cli(
            "migrate", "--database", database, "--to", try await PostgresServer.database())
        #expect(migrate.status == 0, "\(migrate.stdout)\(migrate.stderr)")
        #expect(migrate.lines.contains { $0.split(separator: " ") == ["results", "1"] }, "\(migrate.stdout)")
        #expect(
            migrate.stdout.contains(
                "rollups: 1 result the SQLite file had not counted yet no longer decodes: copied as stored"),
            "\(migrate.stdout)")
        #expect(migrate.lines.contains { $0.hasPrefix("  results rowid 1: ") }, "\(migrate.stdout)")
        #expect(
            migrate.stderr.hasSuffix(
                "sonda-aggregator: warning: 1 stored result no longer decodes and is left out of the rollups (listed "
                    + "above); everything else was copied\n"), "\(migrate.stderr)")
    }

    static func serve(_ config: String, directory: String) async throws -> (process: BackgroundProcess, port: Int) {
        let portFile = "\(directory)/port-\(UUID().uuidString)"
        let process = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary, ["serve", "--config", config, "--port-file", portFile])
        return (process, try await process.port(writtenTo: portFile))
    }

    /// What the API answers about agents, budgets and uptime over the last day, less what grows
    /// with the time the test takes (seconds since each agent was seen, burn rates over minutes).
    static func answers(port: Int) async throws -> (agents: String, budgets: String, uptime: String) {
        func get(_ path: String, _ list: String, without key: String) async throws -> String {
            let body = try await ChildProcess.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)\(path)"]).stdout
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let entries = (object?[list] as? [[String: Any]] ?? []).map { $0.filter { $0.key != key } }
            return String(
                decoding: try JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys]), as: UTF8.self)
        }
        return (
            try await get("/v1/agents", "agents", without: "seconds_since_seen"),
            try await get("/v1/budgets?window=24h", "cells", without: ""),
            try await get("/v1/uptime?window=24h", "checks", without: "burn_rates")
        )
    }
}

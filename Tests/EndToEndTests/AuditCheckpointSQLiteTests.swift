import Foundation
import TestSupport
import Testing

/// The aggregator's own key and its signed checkpoints, with the real binaries on a SQLite file:
/// `keygen` never overwrites by accident, `serve` signs the chain's head at start and on SIGTERM,
/// and `audit verify --checkpoints` catches each tampering someone who can write the database
/// (or the checkpoints file) could do, with its own exit code.
@Suite struct AuditCheckpointSQLiteTests {
    @Test func keygenWritesASecretKeyAndReplacesItOnlyWhenForced() async throws {
        let trail = try await AuditTrail()
        defer { trail.remove() }
        let key = "\(trail.directory)/audit.key"
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(trail.publicKey.hasPrefix("ed25519:") && trail.publicKey.count == 52)
        let before = try String(contentsOfFile: key, encoding: .utf8)

        let again = try await ChildProcess.run(AuditTrail.binary, ["keygen", "--out", key])
        #expect(again.status == 73 && again.stdout.isEmpty)
        #expect(
            again.stderr.contains("cannot create '\(key)': File exists (it exists; give --force to replace it)"),
            "\(again.stderr)")
        #expect(try String(contentsOfFile: key, encoding: .utf8) == before)

        let forced = try await ChildProcess.run(AuditTrail.binary, ["keygen", "--out", key, "--force"])
        #expect(forced.status == 0 && forced.stdout.hasPrefix("ed25519:") && forced.stdout != trail.publicKey + "\n")
        #expect(forced.stderr.contains("wrote \(key) (keep it secret; mode 0600)"))
        #expect(try String(contentsOfFile: key, encoding: .utf8) != before)
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
        let left = try FileManager.default.contentsOfDirectory(atPath: trail.directory).filter { $0.contains(".new-") }
        #expect(left.isEmpty, "no temporary file stays behind")
    }

    @Test func everyTamperingOfTheChainOrItsCheckpointsIsCaught() async throws {
        let trail = try await AuditTrail()
        defer { trail.remove() }
        let dir = trail.directory
        let config = try trail.config(database: "sonda.sqlite", checkpoints: "trail.jsonl")
        let (serve, port) = try await trail.serve(config)
        #expect(await eventually { trail.lines("trail.jsonl").count == 1 }, "\(serve.log)")
        #expect(
            trail.lines("trail.jsonl").first?.contains(#""entries":1,"#) == true,
            "the start checkpoint signs the config entry")
        #expect(try await trail.send(batches: 3, to: port).status == 0)
        serve.signal(SIGTERM)
        #expect(await serve.wait() == 0, "\(serve.log)")
        let written = trail.lines("trail.jsonl")
        #expect(
            written.count == 2 && written[1].contains(#""entries":4,"#) && written[1].contains(#""reason":"shutdown""#),
            "\(written)")

        let database = "\(dir)/sonda.sqlite"
        let before = FileManager.default.contents(atPath: database)
        let intact = try await trail.verify(
            "--config", config, "--checkpoints", "\(dir)/trail.jsonl", "--require-signed-head")
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(
            intact.stdout.hasPrefix("audit chain intact: 4 entries\ncheckpoints: 2 signed by key "), "\(intact.stdout)")
        #expect(
            intact.stdout.contains("agree with the chain; the latest (")
                && intact.stdout.hasSuffix(", shutdown) signs 4 entries\n"))
        #expect(FileManager.default.contents(atPath: database) == before, "audit verify writes nothing")
        let withKey = try await trail.verify(
            "--database", database, "--checkpoints", "\(dir)/trail.jsonl", "--public-key", "\(dir)/audit.pub")
        #expect(withKey.status == 0 && withKey.stderr.isEmpty, "\(withKey.stderr)")

        // Whoever can write the file: the tail cut, or an entry changed and every hash recomputed.
        func copy(_ name: String) async throws -> String {
            let backup = try await ChildProcess.run("/usr/bin/sqlite3", [database, ".backup \(dir)/\(name)"])
            #expect(backup.status == 0, "\(backup.stderr)")
            return "\(dir)/\(name)"
        }
        let cut = try await copy("cut.sqlite")
        #expect(try await ChildProcess.run("/usr/bin/sqlite3", [cut, AuditTrail.cutTail]).status == 0)
        #expect(try await trail.verify("--database", cut).status == 0, "the chain alone cannot tell")
        let truncated = try await trail.verify(
            "--config", config, "--database", cut, "--checkpoints", "\(dir)/trail.jsonl")
        #expect(truncated.status == 2)
        #expect(
            truncated.stderr.contains(
                "error: audit chain truncated: it has 2 entries, but checkpoint \(dir)/trail.jsonl:2 ("),
            "\(truncated.stderr)")
        #expect(truncated.stderr.hasSuffix(") signed 4\n"))

        let rebuilt = try await copy("rebuilt.sqlite")
        let recompute = try await ChildProcess.run(
            "/usr/bin/env", ["python3", "-c", AuditTrail.recomputeSQLite, rebuilt])
        #expect(recompute.status == 0, "\(recompute.stderr)")
        #expect(try await trail.verify("--database", rebuilt).stdout == "audit chain intact: 4 entries\n")
        let rewritten = try await trail.verify(
            "--config", config, "--database", rebuilt, "--checkpoints", "\(dir)/trail.jsonl")
        #expect(rewritten.status == 3)
        #expect(
            rewritten.stderr.contains(
                "error: audit chain rewritten: its first 4 entries no longer end in the hash that checkpoint \(dir)/trail.jsonl:2"
            ), "\(rewritten.stderr)")
        #expect(rewritten.stderr.contains("an entry from 2 to 4 was changed and the hashes after it recomputed"))

        // Whoever can write the checkpoints file, without the key.
        func checkpoints(_ name: String, _ text: String) throws -> String {
            try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            return "\(dir)/\(name)"
        }
        let forged = try checkpoints(
            "forged.jsonl",
            written[0] + "\n" + written[1].replacingOccurrences(of: #""entries":4"#, with: #""entries":2"#) + "\n")
        let forgedRun = try await trail.verify("--config", config, "--database", cut, "--checkpoints", forged)
        #expect(forgedRun.status == 4)
        #expect(forgedRun.stderr.contains("checkpoint \(forged):2 does not verify with key "), "\(forgedRun.stderr)")
        #expect(forgedRun.stderr.contains(": it was forged or altered"))

        let cutShort = try checkpoints("cut.jsonl", written[0] + "\n" + written[1].prefix(written[1].count / 2))
        let cutRun = try await trail.verify("--config", config, "--checkpoints", cutShort)
        #expect(cutRun.status == 6)
        #expect(
            cutRun.stderr.contains("error: \(cutShort):2 is not a checkpoint: not a whole JSON object"),
            "\(cutRun.stderr)")

        let lastGone = try checkpoints("older.jsonl", written[0] + "\n")
        let relaxed = try await trail.verify("--config", config, "--checkpoints", lastGone)
        #expect(relaxed.status == 0)
        #expect(
            relaxed.stderr.contains(
                "warning: 3 entries after the latest checkpoint are not signed; normal while serve runs"),
            "\(relaxed.stderr)")
        let strict = try await trail.verify("--config", config, "--checkpoints", lastGone, "--require-signed-head")
        #expect(
            strict.status == 5 && strict.stderr.contains("error: 3 entries after the latest checkpoint are not signed"),
            "\(strict.stderr)")

        // Another key than the aggregator's.
        let other = try await ChildProcess.run(AuditTrail.binary, ["keygen", "--out", "\(dir)/other.key"])
        let wrong = try await trail.verify(
            "--database", database, "--checkpoints", "\(dir)/trail.jsonl", "--public-key", other.stdout)
        #expect(wrong.status == 4)
        #expect(wrong.stderr.contains("checkpoint \(dir)/trail.jsonl:1 was signed by key "), "\(wrong.stderr)")
        #expect(wrong.stderr.contains(", not by the given key "))
        #expect(FileManager.default.contents(atPath: database) == before, "no verify wrote to the database")
    }

    @Test func checkpointsComeEveryIntervalToStdoutAndAFailingFileIsAFaultOnHealth() async throws {
        let trail = try await AuditTrail()
        defer { trail.remove() }
        let dir = trail.directory
        try FileManager.default.createDirectory(atPath: "\(dir)/trail", withIntermediateDirectories: true)
        let filed = try trail.config(database: "sonda.sqlite", checkpoints: "trail/checkpoints.jsonl", every: "1s")
        let (serve, port) = try await trail.serve(filed)
        #expect(
            await eventually {
                trail.lines("trail/checkpoints.jsonl").filter { $0.contains(#""reason":"interval""#) }.count >= 2
            })

        // Moved away in one rename: removing it walked the folder while the server wrote a
        // checkpoint into it every second, and failed once (EPERM) in a fresh-clone run.
        try FileManager.default.moveItem(atPath: "\(dir)/trail", toPath: "\(dir)/trail-gone")
        func health() async -> String {
            (try? await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/health"]))?.stdout ?? ""
        }
        func occurrences() async -> Int {
            await health().firstMatch(of: /"occurrences":(\d+)/).flatMap { Int($0.1) } ?? 0
        }
        let failing = await eventually { await occurrences() >= 2 }
        let degraded = await health()
        #expect(failing, "\(degraded)")
        #expect(degraded.contains(#""cause":"audit_checkpoint""#) && degraded.contains(#""status":"degraded""#))
        #expect(degraded.contains("cannot open '\(dir)/trail/checkpoints.jsonl': No such file or directory"))
        #expect(
            serve.log.components(separatedBy: "audit_checkpoint: cannot open").count == 2, "logged once: \(serve.log)")
        try FileManager.default.createDirectory(atPath: "\(dir)/trail", withIntermediateDirectories: true)
        #expect(await eventually { await health() == #"{"status":"ok"}"# })
        #expect(serve.log.contains("audit_checkpoint: recovered after "))
        serve.signal(SIGTERM)
        #expect(await serve.wait() == 0)

        // To stdout: the lines a log collector would keep verify as a file's do.
        let printed = try trail.config("stdout.yaml", database: "sonda.sqlite", checkpoints: "stdout")
        let (out, outPort) = try await trail.serve(printed, portFile: "stdout.port")
        #expect(try await trail.send(batches: 2, to: outPort).status == 0)
        out.signal(SIGTERM)
        #expect(await out.wait() == 0)
        let lines = out.log.split(separator: "\n").filter { $0.hasPrefix(#"{"audit_checkpoint":1,"#) }
        #expect(lines.count == 2 && lines[1].contains(#""reason":"shutdown""#), "\(out.log)")
        try lines.joined(separator: "\n").write(toFile: "\(dir)/collected.jsonl", atomically: true, encoding: .utf8)
        let verified = try await trail.verify(
            "--config", printed, "--checkpoints", "\(dir)/collected.jsonl", "--require-signed-head")
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test(.enabled(if: getuid() == 0, "a mount namespace of its own needs root"))
    func checkpointsGoToSyslogAndVerifyWithItsLinePrefix() async throws {
        let trail = try await AuditTrail()
        defer { trail.remove() }
        let config = try trail.config(database: "sonda.sqlite", checkpoints: "syslog")
        let (received, output) = try await trail.serveLoggingToSyslog(config)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        let lines = received.split(separator: "\n")
        // Facility auth (4), priority notice (5): <37>; tagged with the program's name and pid.
        #expect(
            lines.count == 2 && lines.allSatisfy { $0.hasPrefix("<37>") && $0.contains(" sonda-aggregator[") },
            "\(received)")
        #expect(lines.last?.contains(#""reason":"shutdown""#) == true)
        try received.write(toFile: "\(trail.directory)/syslog.jsonl", atomically: true, encoding: .utf8)
        let verified = try await trail.verify(
            "--config", config, "--checkpoints", "\(trail.directory)/syslog.jsonl", "--require-signed-head")
        #expect(verified.status == 0 && verified.stdout.contains("checkpoints: 2 signed by key "), "\(verified.stderr)")
    }
}

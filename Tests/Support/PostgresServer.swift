import Foundation
import Synchronization

/// A throwaway PostgreSQL 15 cluster for this test process (scripts/test-postgres), started on
/// first use and stopped at exit; each test takes a database of its own from it.
public enum PostgresServer {
    /// A new, empty database's URL.
    public static func database() async throws -> String {
        let server = try await shared.value
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created = try await ChildProcess.run(
            "/usr/lib/postgresql/15/bin/psql", [server, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE \(name)"])
        guard created.status == 0 else {
            throw ChildProcess.SpawnFailed(description: "CREATE DATABASE failed: \(created.stderr)")
        }
        return server[..<server.lastIndex(of: "/")!] + "/\(name)"
    }

    /// A query whose answer is `t` when a database's rollups count every stored result once: the
    /// outcome counts of every span, the latency histograms of the successful results, the rows
    /// ingest appended that the lease holder has not yet moved included (`RollupTables`).
    public static let rollupsCountEveryResultOnce = """
        SELECT (SELECT COALESCE(SUM(count), 0) FROM outcome_minute) + p.outcomes = r.total
           AND (SELECT COALESCE(SUM(count), 0) FROM outcome_hour) + p.outcomes = r.total
           AND (SELECT COALESCE(SUM(count), 0) FROM outcome_day) + p.outcomes = r.total
           AND (SELECT COALESCE(SUM(count), 0) FROM latency_minute) + p.latency = r.ok
        FROM (SELECT (SELECT COALESCE(SUM(count), 0) FROM outcome_pending) AS outcomes,
                     (SELECT COALESCE(SUM(count), 0) FROM latency_pending) AS latency) AS p,
             (SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE ok) AS ok FROM results) AS r
        """

    /// Runs SQL through psql against `url`, for what a test checks beside the store.
    public static func psql(_ url: String, _ sql: String) async throws -> String {
        let output = try await ChildProcess.run(
            "/usr/lib/postgresql/15/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        guard output.status == 0 else { throw ChildProcess.SpawnFailed(description: "psql failed: \(output.stderr)") }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let directory = Mutex<String?>(nil)

    /// Started by the first test that asks; the others wait for it suspended, not holding a thread
    /// of the pool (initdb takes seconds on a loaded machine, and the pool has two).
    private static let shared = Task<String, any Error> {
        let script = TLSLab.packageRoot.appendingPathComponent("scripts/test-postgres").path
        let output = try await ChildProcess.run(script, ["start"])
        guard output.status == 0, output.lines.count == 2 else {
            throw ChildProcess.SpawnFailed(description: "scripts/test-postgres start failed: \(output.stderr)")
        }
        directory.withLock { $0 = output.lines[0] }
        atexit {
            guard let dir = PostgresServer.directory.withLock({ $0 }) else { return }
            let script = TLSLab.packageRoot.appendingPathComponent("scripts/test-postgres").path
            // The server's own account of processes that died, if any (scripts/test-postgres).
            if let output = try? ChildProcess.runBlocking(script, ["stop", dir]), !output.stderr.isEmpty {
                FileHandle.standardError.write(Data(output.stderr.utf8))
            }
        }
        return output.lines[1]
    }
}

/// A PostgreSQL cluster of one test's own (scripts/test-postgres), for tests that stop and start
/// the server; removed when the value goes away.
public final class DedicatedPostgres: Sendable {
    public let directory: String
    public let url: String
    static let script = TLSLab.packageRoot.appendingPathComponent("scripts/test-postgres").path

    public init() async throws {
        let cluster = try await ChildProcess.run(Self.script, ["start"])
        guard cluster.status == 0, cluster.lines.count == 2 else {
            throw ChildProcess.SpawnFailed(description: "scripts/test-postgres start failed: \(cluster.stderr)")
        }
        (directory, url) = (cluster.lines[0], cluster.lines[1])
    }

    /// The server's TCP port on 127.0.0.1.
    public var port: String { url.firstMatch(of: /:(\d+)\//).map { String($0.output.1) } ?? "" }

    /// Adds role `role`, which logs in with `password` (scram-sha-256 over TCP) and owns a database
    /// of the same name; the other roles keep logging in without one.
    public func addPasswordLogin(role: String, password: String) async throws {
        let quoted = password.replacingOccurrences(of: "'", with: "''")
        _ = try await PostgresServer.psql(url, "CREATE ROLE \(role) LOGIN PASSWORD '\(quoted)'")
        _ = try await PostgresServer.psql(url, "CREATE DATABASE \(role) OWNER \(role)")
        try "host all \(role) 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\nlocal all all trust\n"
            .write(toFile: "\(directory)/data/pg_hba.conf", atomically: false, encoding: .utf8)
        _ = try await PostgresServer.psql(url, "SELECT pg_reload_conf()")
    }

    /// `pg_ctl stop -m immediate` (as a crash would leave it) or `start`, with the script's options;
    /// `restart` with `mode: "fast"` is an operator's restart.
    public func control(_ action: String, mode: String = "immediate") async throws {
        var command = [
            "/usr/lib/postgresql/15/bin/pg_ctl", "-D", "\(directory)/data", "-w", "-l", "\(directory)/server.log",
            "-m", mode, "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=off", action,
        ]
        if getuid() == 0 { command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command }
        let output = try await ChildProcess.run(command[0], Array(command.dropFirst()))
        guard output.status == 0 else {
            throw ChildProcess.SpawnFailed(description: "pg_ctl \(action): \(output.stdout)\(output.stderr)")
        }
    }

    /// `kill -9` of the postmaster, then a start once its orphaned backends have gone (until then
    /// PostgreSQL refuses to start: their shared memory is still attached).
    public func killPostmasterAndStart() async throws {
        let pidFile = (try? String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8)) ?? ""
        // Only this cluster's postmaster: a stale file's pid may be another process's by now.
        let pid = pid_t(pidFile.split(separator: "\n").first ?? "")
        let commandLine = pid.flatMap { FileManager.default.contents(atPath: "/proc/\($0)/cmdline") } ?? Data()
        guard let pid, String(decoding: commandLine, as: UTF8.self).contains("\(directory)/data"),
            kill(pid, SIGKILL) == 0
        else {
            throw ChildProcess.SpawnFailed(description: "no postmaster to kill in \(directory)/data/postmaster.pid")
        }
        var failure: (any Error)?
        let started = await eventually(every: .milliseconds(500)) {
            do {
                try await control("start")
                return true
            } catch {
                failure = error
                return false
            }
        }
        if !started { throw failure ?? ChildProcess.SpawnFailed(description: "PostgreSQL did not start again") }
    }

    deinit {
        _ = try? ChildProcess.runBlocking(Self.script, ["stop", directory])
    }
}

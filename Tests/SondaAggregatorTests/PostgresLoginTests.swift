import Foundation
import Logging
import SondaAggregator
import SondaConfig
import Synchronization
import TestSupport
import Testing

/// Logging in to a PostgreSQL server that checks passwords (scram-sha-256) and offers TLS with a
/// certificate no trust store knows: what an operator's first `database:` line meets.
@Suite struct PostgresLoginTests {
    static let password = "p@ss/w:rd%41#?& x"

    /// A cluster of its own where role `clinic` logs in with `password` over TCP and the server
    /// speaks TLS with a self-signed certificate.
    static func server() async throws -> (DedicatedPostgres, port: String) {
        let cluster = try await DedicatedPostgres()
        let data = "\(cluster.directory)/data"
        try await cluster.addPasswordLogin(role: "clinic", password: password)
        let certificate = try await ChildProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-keyout", "\(data)/server.key", "-out", "\(data)/server.crt",
            ])
        #expect(certificate.status == 0, "\(certificate.stderr)")
        if getuid() == 0 {
            _ = try await ChildProcess.run("/usr/bin/chown", ["postgres:", "\(data)/server.key", "\(data)/server.crt"])
        }
        chmod("\(data)/server.key", 0o600)
        _ = try await PostgresServer.psql(cluster.url, "ALTER SYSTEM SET ssl = on")
        _ = try await PostgresServer.psql(cluster.url, "SELECT pg_reload_conf()")
        return (cluster, cluster.port)
    }

    /// `database:` as an operator writes it, the password from the environment.
    static func loadedURL(port: String, sslMode: String, password: String = password) throws -> PostgresURL {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("login-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        database: "postgres://clinic:${env:SONDA_DB_PASSWORD}@127.0.0.1:\(port)/clinic?sslmode=\(sslMode)"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        var loader = AggregatorConfigLoader(environment: ["SONDA_DB_PASSWORD": password])
        let loaded = loader.load(path: path)
        let config = try #require(loaded, "\(loader.diagnostics)")
        return try PostgresURL(config.database)
    }

    /// Why `open` refuses `url`. A connect that times out (5 s, which a loaded machine can take to
    /// do TLS and SCRAM) is "unreachable", which `serve` tries again; so does this (ci54).
    static func refusal(_ url: PostgresURL) async -> PostgresStoreError? {
        var refused: PostgresStoreError?
        for _ in 0..<10 {
            do {
                await (try await PostgresStore.open(url)).close()
                return nil
            } catch let error as PostgresStoreError {
                refused = error
                if !error.isUnreachable { break }
            } catch {
                Issue.record("not a PostgresStoreError: \(error)")
                return nil
            }
        }
        return refused
    }

    @Test func aPasswordWithURLCharactersFromTheEnvironmentLogsIn() async throws {
        let (cluster, port) = try await Self.server()
        let url = try Self.loadedURL(port: port, sslMode: "require")
        #expect(url.password == Self.password)
        #expect(!url.redacted.contains("p@ss"))
        let store = try await PostgresStore.forTests(url)
        _ = try await store.agents()
        await store.close()

        let wrong = try Self.loadedURL(port: port, sslMode: "require", password: "p@ss/w:rd")
        let refused = await Self.refusal(wrong)
        #expect(refused?.isUnreachable == false)
        #expect("\(refused.map { $0 as Any } ?? "")".contains("password authentication failed"))
        _ = cluster
    }

    /// A server that ends the connection the migration runs on, after the first connection got
    /// in, is waited for like a server not up yet: `serve` tries again instead of exiting (a
    /// fresh-clone run saw a test cluster close one so, and the store gave up). The migration
    /// waits for its lock, held here by psql, so the test ends it there, then lets it through.
    @Test func aConnectionEndedDuringTheMigrationIsTriedAgain() async throws {
        let url = try await PostgresServer.database()
        let psql = "/usr/lib/postgresql/15/bin/psql"
        let holder = try BackgroundProcess(
            psql, [url, "-c", "SELECT pg_advisory_lock(\(0x534F_4E44_4101))", "-c", "SELECT pg_sleep(600)"])
        defer { holder.signal(SIGKILL) }
        func backends(_ condition: String) async -> [String] {
            let answer = try? await PostgresServer.psql(
                url,
                """
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND \(condition)
                """)
            return answer.map { $0.split(separator: "\n").map(String.init) } ?? []
        }
        var holding: [String] = []
        #expect(
            await eventually {
                holding = await backends("query LIKE 'SELECT pg_sleep(600)%'")
                return holding.count == 1
            }, "\(holder.log)")

        // Waited for as an event, so that a store that never opens fails the test, not the run.
        let opened = Mutex<Result<any AggregatorStore, any Error>?>(nil)
        Task {
            do {
                let store = try await StoreOpening.open(url, logger: Logger(label: "test"))
                opened.withLock { $0 = .success(store) }
            } catch {
                opened.withLock { $0 = .failure(error) }
            }
        }
        let migration = "wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'"
        var waiting: [String] = []
        #expect(
            await eventually {
                waiting = await backends(migration)
                return waiting.count == 1
            })
        let ended = try await PostgresServer.psql(url, "SELECT pg_terminate_backend(\(waiting.joined()))")
        #expect(ended == "t")
        // The lock's query is read to its end (`rows`), or its error would reach no one; and when
        // the driver still gives no answer on the closed connection, the store's watchdog does.
        // The next try waits for the lock again, on a new connection; then the holder lets go
        // (its backend would sleep on after psql's end).
        #expect(
            await eventually {
                let now = await backends(migration)
                return now.count == 1 && now != waiting
            })
        _ = try await PostgresServer.psql(url, "SELECT pg_terminate_backend(\(holding.joined()))")
        #expect(await eventually { opened.withLock { $0 != nil } }, "the store opens once the lock is free")
        let store = try #require(opened.withLock { $0 }).get()
        _ = try await store.agents()
        await store.close()
    }

    /// verify-full against a certificate that no trust store signed cannot get better by waiting:
    /// `serve` must stop with the reason (exit 78), not try again forever.
    @Test func aCertificateThatFailsVerificationIsNotRetried() async throws {
        let (cluster, port) = try await Self.server()
        let url = try Self.loadedURL(port: port, sslMode: "verify-full")
        let error = await Self.refusal(url)
        #expect(error?.isUnreachable == false, "\(error.map { $0 as Any } ?? "")")
        #expect("\(error.map { $0 as Any } ?? "")".lowercased().contains("certificate"))
        _ = cluster
    }
}

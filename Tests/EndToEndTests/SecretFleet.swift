import Foundation
import TestSupport

/// A small fleet configured with a distinct secret in every place Sonda takes one: two agents
/// (their keys, the aggregator URLs' passwords, check headers, a query-string key, URL passwords,
/// a flow's login password and the token it extracts) and an aggregator on PostgreSQL (the
/// database password, read and admin tokens, the receivers' URL passwords, tokens and webhook
/// secret). Everything it starts writes into `directory`; `scan` holds every secret.
final class SecretFleet: @unchecked Sendable {
    static let agents = [("leak-sp", "sao_paulo"), ("leak-rj", "rio_de_janeiro")]
    static let receiverName = "alert receiver"
    /// The token the lab's `/login` hands out, which the flow extracts.
    static let extractedToken = "sonda-secret-token-123"

    let directory: String
    let lab: TLSLab
    let postgres: DedicatedPostgres
    var scan = SecretScan()
    /// `${env:…}` values: the environment of every process that reads the configuration.
    private(set) var environment: [String: String] = [:]
    private(set) var processes: [(name: String, process: BackgroundProcess)] = []
    private(set) var server = ""
    private(set) var receiverOutput = ""
    private(set) var agentPorts: [Int] = []

    init() async throws {
        lab = try TLSLab.shared()
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("sonda-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        postgres = try await DedicatedPostgres()
        try await postgres.addPasswordLogin(role: "clinic", password: secret("SONDA_DB_PASSWORD", "database password"))
    }

    /// A fresh secret for `variable` in the environment, registered with the scan.
    @discardableResult
    func secret(_ variable: String, _ what: String) -> String {
        let value = Self.fresh(what)
        environment[variable] = value
        scan.secret(what + " ($\(variable))", value)
        return value
    }

    /// A value no output should hold by chance: `s3cr3t-` and 16 random hex digits.
    static func fresh(_ what: String) -> String {
        let tag = what.split(separator: " ").first.map(String.init) ?? "x"
        return "s3cr3t-\(tag)-\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func start(_ name: String, _ binary: String, _ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess(binary, arguments, environment: environment)
        processes.append((name, process))
        return process
    }

    /// The receivers, the aggregator and both agents, each once it answers.
    func startAll() async throws {
        let receiver = try start(
            Self.receiverName, "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("Tests/Support/recording-receiver.py").path,
                "--port-file", path("receiver.port"), "--out", path("received.jsonl"),
            ])
        receiverOutput = path("received.jsonl")
        let receiverPort = try await receiver.port(writtenTo: path("receiver.port"))
        try await writeAggregatorConfig(receiverPort: receiverPort)
        let aggregator = try start(
            "sonda-aggregator serve", AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", path("aggregator.yaml"), "--port-file", path("aggregator.port")])
        server = "http://127.0.0.1:\(try await aggregator.port(writtenTo: path("aggregator.port")))"
        try writeChecks()
        for (id, region) in Self.agents {
            try writeAgentConfig(id: id, region: region)
            let agent = try start(
                "sonda-agent run \(id)", AgentCLI.binary,
                ["run", "--config", path("\(id).yaml"), "--listen", "127.0.0.1:0"])
            agentPorts.append(try await agent.agentListenPort())
        }
    }

    private func writeAggregatorConfig(receiverPort: Int) async throws {
        secret("SONDA_READ_TOKEN", "read token")
        let admin = Self.fresh("admin token")
        scan.secret("admin token (${file:})", admin)
        try admin.write(toFile: path("admin-token"), atomically: true, encoding: .utf8)
        let amPassword = secret("SONDA_AM_PASSWORD", "alertmanager password")
        let hookPassword = secret("SONDA_HOOK_PASSWORD", "webhook password")
        scan.secret(
            "alertmanager basic auth", "am:" + amPassword, alsoAs: [Data("am:\(amPassword)".utf8).base64EncodedString()]
        )
        scan.secret(
            "webhook basic auth", "hook:" + hookPassword,
            alsoAs: [Data("hook:\(hookPassword)".utf8).base64EncodedString()])
        secret("SONDA_HOOK_TOKEN", "webhook query token")
        secret("SONDA_WEBHOOK_SECRET", "webhook signing secret")
        secret("SONDA_SLACK_PATH", "slack url path")
        var agents = ""
        for (id, region) in Self.agents {
            let keygen = try await AgentCLI.run("keygen", "--out", path("\(id).key"), "--id", id)
            let publicKey = keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") } ?? ""
            let seed = try String(contentsOfFile: path("\(id).key"), encoding: .utf8)
            scan.secret("\(id)'s private key", seed.trimmingCharacters(in: .whitespacesAndNewlines))
            agents += "  - {id: \(id), region: \(region), site: lab, public_key: \"\(publicKey)\"}\n"
        }
        let nobody = try refusedLoopbackPort()
        try """
        listen: 127.0.0.1:0
        database: "postgres://clinic:${env:SONDA_DB_PASSWORD}@127.0.0.1:\(postgres.port)/clinic?sslmode=disable"
        read_tokens: ["${env:SONDA_READ_TOKEN}"]
        admin_tokens: ["${file:\(path("admin-token"))}"]
        agents:
        \(agents)
        alerting:
          evaluate_every: 1s
          down: {quorum: 1, for: 1}
          receivers:
            - {name: am, alertmanager: {url: "http://am:${env:SONDA_AM_PASSWORD}@127.0.0.1:\(receiverPort)"}}
            - name: hook
              webhook:
                url: "http://hook:${env:SONDA_HOOK_PASSWORD}@127.0.0.1:\(receiverPort)/hook?token=${env:SONDA_HOOK_TOKEN}"
                secret: "${env:SONDA_WEBHOOK_SECRET}"
            - {name: chat, slack: {url: "http://127.0.0.1:\(nobody)/services/${env:SONDA_SLACK_PATH}"}}
          routes:
            - {match: {alertname: SondaTLSPolicy}, receiver: am}
            - {match: {check: booking}, receiver: hook}
            - {receiver: chat}
        """.write(toFile: path("aggregator.yaml"), atomically: true, encoding: .utf8)
    }

    /// Checks both agents run: a header token, a query-string key and literal header and URL
    /// passwords (`api`, `portal`), a TLS policy failure behind a literal URL password (`legacy`),
    /// and a flow that logs in with a password, extracts a token, sends it in a header and a URL,
    /// then fails an assertion on it (`booking`).
    private func writeChecks() throws {
        secret("SONDA_CHECK_TOKEN", "check bearer token")
        secret("SONDA_QUERY_KEY", "check query key")
        secret("SONDA_PORTAL_PASSWORD", "check url password")
        secret("SONDA_FLOW_PASSWORD", "flow login password")
        let literalHeader = Self.fresh("literal header")
        let literalPassword = Self.fresh("literal url password")
        scan.secret("a literal header value", literalHeader)
        scan.secret("a literal URL password", literalPassword)
        scan.secret("the token the flow extracts", Self.extractedToken)
        let tls13 = "localhost:\(lab.port("tls13"))"
        try """
        checks:
          - name: api
            class: authentication
            interval: 2s
            timeout: 2s
            http:
              url: "https://\(tls13)/json?api_key=${env:SONDA_QUERY_KEY}"
              headers: {Authorization: "Bearer ${env:SONDA_CHECK_TOKEN}", X-Api-Key: "\(literalHeader)"}
            expect: {json: {"$.status": "ok"}}
          - {name: portal, class: patient_data, interval: 2s, timeout: 2s, http: {url: "https://portal:${env:SONDA_PORTAL_PASSWORD}@\(tls13)/api/health"}}
          - {name: legacy, class: patient_data, interval: 2s, timeout: 2s, http: {url: "https://legacy:\(literalPassword)@localhost:\(lab.port("tls12"))/api/health"}}
          - name: booking
            class: appointment_booking
            interval: 2s
            timeout: 2s
            steps:
              - name: login
                http: {url: "https://\(tls13)/login", method: POST, body: '{"user":"demo","password":"${env:SONDA_FLOW_PASSWORD}"}'}
                extract: {token: {json: "$.token"}}
              - name: slots
                http: {url: "https://\(tls13)/api/slots?session=${token}", headers: {Authorization: "Bearer ${token}"}}
                expect: {status: 200}
              - name: again
                http: {url: "https://\(tls13)/login", method: POST}
                expect: {json: {"$.token": "not-the-token"}}
        """.write(toFile: path("checks.yaml"), atomically: true, encoding: .utf8)
    }

    /// Reports through a first aggregator URL nobody answers, then the live one, both with a password.
    private func writeAgentConfig(id: String, region: String) throws {
        if environment["SONDA_AGGREGATOR_PASSWORD"] == nil {
            secret("SONDA_AGGREGATOR_PASSWORD", "aggregator url password")
        }
        let live = server.replacingOccurrences(of: "http://", with: "http://sonda:${env:SONDA_AGGREGATOR_PASSWORD}@")
        let dead = "http://sonda:${env:SONDA_AGGREGATOR_PASSWORD}@127.0.0.1:\(try refusedLoopbackPort())"
        try """
        agent: {id: \(id), region: \(region), site: lab}
        aggregator: {urls: ["\(dead)", "\(live)"], key: \(id).key}
        spool: spool-\(id)
        batch: {max_results: 50, max_age: 300ms}
        profiles: [none]
        ca_file: \(lab.ca)
        include: [checks.yaml]
        """.write(toFile: path("\(id).yaml"), atomically: true, encoding: .utf8)
    }

    /// A run of a built binary with the fleet's environment (plus `extra`); its output is scanned.
    @discardableResult
    func run(
        _ name: String, _ binary: String, _ arguments: [String], environment extra: [String: String] = [:]
    ) async throws -> ChildProcess.Output {
        let output = try await ChildProcess.run(binary, arguments, environment: environment.merging(extra) { $1 })
        scan.output(name, output)
        return output
    }

    /// `curl` of a URL with the read token (unless `token` says otherwise); the answer is scanned.
    @discardableResult
    func fetch(_ url: String, token: String? = nil) async throws -> String {
        let bearer = token ?? environment["SONDA_READ_TOKEN"] ?? ""
        let output = try await ChildProcess.run(
            "/usr/bin/curl", ["-s", "-i", "-H", "Authorization: Bearer \(bearer)", url])
        scan.output("GET \(url)", output.stdout)
        return output.stdout
    }

    /// Every notification the receivers got, as `path body` lines.
    var received: String { (try? String(contentsOfFile: receiverOutput, encoding: .utf8)) ?? "" }

    /// Everything every process logged, for a failure message.
    var logs: String {
        processes.map {
            "--- \($0.name) (exit \($0.process.exitStatus.map(String.init) ?? "running"))\n\($0.process.log)"
        }
        .joined(separator: "\n")
    }

    /// SIGTERM to every process of Sonda's, newest first, and each must exit 0; the receiver is
    /// killed. The logs are scanned.
    func stopAll() async -> [String] {
        var failures: [String] = []
        for (name, process) in processes.reversed() {
            // The receiver is the test's own (python3 inherits the test process's ignored SIGTERM).
            let receiver = name == Self.receiverName
            process.signal(receiver ? SIGKILL : SIGTERM)
            let status = await process.wait()
            if status != 0 && !receiver { failures.append("\(name) exited \(status.map(String.init) ?? "never")") }
            scan.output("the log of \(name)", process.log)
        }
        return failures
    }

    deinit {
        for (_, process) in processes { process.signal(SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

import Foundation
import TestSupport
import Testing

/// Nothing secret leaves Sonda: a fleet configured with a distinct secret in every place that
/// takes one (SecretFleet) runs until it has reported every check and sent alerts, is asked
/// everything a person or a scraper asks (CLI with --json, /metrics, /health, the status pages,
/// the /v1 API, `probe --har`, `audit verify`, a wrong database password and a wrong token), and
/// then every output (each process's stdout and stderr, each HTTP answer, every file it wrote,
/// the notifications sent, the database's contents) is searched for every secret.
@Suite struct SecretLeakTests {
    @Test func theScanNamesEachSecretWithTheOutputThatHoldsIt() {
        var scan = SecretScan()
        scan.secret("the read token", "s3cr3t-read-0123456789abcdef")
        scan.secret("a key", "q1/w2+e3r4t5==")
        scan.secret("basic auth", "am:s3cr3t-am-42", alsoAs: [Data("am:s3cr3t-am-42".utf8).base64EncodedString()])
        scan.output("a clean log", "listening on http://127.0.0.1:9470, database postgres://clinic:***@db/clinic")
        scan.output("a leaky log", "GET /v1/agents with Authorization: Bearer s3cr3t-read-0123456789abcdef refused")
        scan.output("a JSON answer", #"{"seed":"q1\/w2+e3r4t5=="}"#)
        scan.output("a URL", "http://x/?t=s3cr3t%2Dread%2D0123456789abcdef")
        scan.output("a header", "Authorization: Basic " + Data("am:s3cr3t-am-42".utf8).base64EncodedString())
        #expect(
            scan.leaks.map { "\($0.secret) in \($0.output)" } == [
                "the read token in a leaky log", "a key in a JSON answer", "the read token in a URL",
                "basic auth in a header",
            ])
        #expect(scan.leaks.first?.context.contains("Bearer s3cr3t-read") == true)
    }

    @Test func noConfiguredSecretReachesAnyOutputOfAFleet() async throws {
        let fleet = try await SecretFleet()
        try await fleet.startAll()
        let ready = await Self.waitForAlertsAndResults(fleet)
        try #require(
            ready, "the fleet did not report every check and send its alerts:\n\(fleet.received)\n\(fleet.logs)")

        try await Self.askTheAgents(fleet)
        try await Self.askTheAggregator(fleet)
        let stopped = await fleet.stopAll()
        #expect(stopped.isEmpty, "\(stopped)\n\(fleet.logs)")
        try await Self.auditAndWrongPasswords(fleet)

        // Every file the fleet wrote but those that hold the secrets on purpose.
        fleet.scan.files(under: fleet.directory) { name in
            name.hasSuffix(".yaml") || name.hasSuffix(".key") || name == "admin-token"
        }
        let dump = try await ChildProcess.run(
            "/usr/lib/postgresql/15/bin/pg_dump",
            ["--data-only", "postgres://sonda@127.0.0.1:\(fleet.postgres.port)/clinic"])
        #expect(dump.status == 0 && dump.stdout.contains("COPY"), "\(dump.stderr)")
        fleet.scan.output("the database (pg_dump)", dump.stdout)

        let leaks = fleet.scan.leaks
        #expect(leaks.isEmpty, "\(leaks.count) leaks:\n\(leaks.map(\.description).joined(separator: "\n"))")
        #expect(fleet.scan.outputs.count > 60, "the scan read too little: \(fleet.scan.outputs.map(\.name))")
    }

    /// Until every check has results at the aggregator, the webhook and Alertmanager receivers got
    /// a notification and the Slack receiver (nobody listening) failed at least once.
    static func waitForAlertsAndResults(_ fleet: SecretFleet) async -> Bool {
        let token = fleet.environment["SONDA_READ_TOKEN"] ?? ""
        func get(_ path: String) async -> String {
            let run = try? await ChildProcess.run(
                "/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(token)", fleet.server + path])
            return run?.stdout ?? ""
        }
        return await eventually(every: .milliseconds(300)) {
            for check in ["api", "portal", "legacy", "booking"] {
                guard await get("/v1/checks/\(check)/results?limit=1").contains(#""check":"\#(check)""#) else {
                    return false
                }
            }
            let received = fleet.received
            guard received.contains(#""path": "/hook""#) && received.contains(#""path": "/api/v2/alerts""#) else {
                return false
            }
            return await get("/metrics").contains(#"sonda_alert_last_failure_timestamp_seconds{receiver="chat""#)
        }
    }

    /// The agents' listeners, a configured check and flow run by hand with HAR files, an ad-hoc
    /// probe with a password in its URL and a header, and `validate`.
    static func askTheAgents(_ fleet: SecretFleet) async throws {
        for port in fleet.agentPorts {
            try await fleet.fetch("http://127.0.0.1:\(port)/metrics")
            try await fleet.fetch("http://127.0.0.1:\(port)/health")
        }
        let config = fleet.path("leak-sp.yaml")
        for check in ["booking", "api", "portal", "legacy"] {
            try await fleet.run(
                "sonda-agent probe --check \(check) --har", AgentCLI.binary,
                ["probe", "--config", config, "--check", check, "--har", fleet.path("\(check).har")])
            try await fleet.run(
                "sonda-agent probe --check \(check) --json", AgentCLI.binary,
                ["probe", "--config", config, "--check", check, "--json"])
        }
        let password = SecretFleet.fresh("ad-hoc url password")
        let header = SecretFleet.fresh("ad-hoc header")
        fleet.scan.secret("the ad-hoc probe's URL password", password)
        fleet.scan.secret("the ad-hoc probe's header", header)
        let adHoc = try await fleet.run(
            "sonda-agent probe URL --har", AgentCLI.binary,
            [
                "probe", "https://probe:\(password)@localhost:\(fleet.lab.port("tls13"))/json", "--ca-file",
                fleet.lab.ca,
                "--header", "Authorization: Bearer \(header)", "--har", fleet.path("ad-hoc.har"), "--json",
            ])
        #expect(adHoc.status == 0, "\(adHoc.stdout)\(adHoc.stderr)")
        // libcurl takes a proxy from the environment; its password is not Sonda's to print either.
        let proxyPassword = SecretFleet.fresh("proxy password")
        fleet.scan.secret("a proxy password ($https_proxy)", proxyPassword)
        try await fleet.run(
            "sonda-agent probe URL through a proxy", AgentCLI.binary,
            ["probe", "https://localhost:\(fleet.lab.port("tls13"))/json", "--ca-file", fleet.lab.ca, "--json"],
            environment: ["https_proxy": "http://proxy:\(proxyPassword)@127.0.0.1:\(try refusedLoopbackPort())"])
        let validate = try await fleet.run(
            "sonda-agent validate", AgentCLI.binary, ["validate", config, fleet.path("checks.yaml")])
        #expect(validate.status == 0, "\(validate.stderr)")
    }

    /// The CLI with --json and as tables, a silence made with the admin token, a wrong token and a
    /// server URL with a password, and every HTTP endpoint and status page.
    static func askTheAggregator(_ fleet: SecretFleet) async throws {
        let cli = AggregatorEndToEndTests.aggregatorBinary
        let server = ["--server", fleet.server]
        for command in [["budgets"], ["uptime"], ["agents"], ["alerts"], ["silence", "list"]] {
            let json = try await fleet.run(
                "sonda-aggregator \(command.joined(separator: " ")) --json", cli, command + server + ["--json"])
            #expect(json.status == 0, "\(command): \(json.stderr)")
            try await fleet.run("sonda-aggregator \(command.joined(separator: " "))", cli, command + server)
        }
        let admin = try String(contentsOfFile: fleet.path("admin-token"), encoding: .utf8)
        let silence = try await fleet.run(
            "sonda-aggregator silence add", cli,
            ["silence", "add", "--matcher", "check=legacy", "--for", "1h", "--comment", "secrets test"] + server,
            environment: ["SONDA_ADMIN_TOKEN": admin])
        #expect(silence.status == 0, "\(silence.stderr)")
        let wrongToken = SecretFleet.fresh("wrong token")
        fleet.scan.secret("a wrong read token", wrongToken)
        let refused = try await fleet.run(
            "sonda-aggregator agents --token WRONG", cli, ["agents", "--token", wrongToken, "--json"] + server)
        #expect(refused.status != 0)
        let cliPassword = SecretFleet.fresh("cli url password")
        fleet.scan.secret("a password in the CLI's --server URL", cliPassword)
        let unreachable = try await fleet.run(
            "sonda-aggregator agents --server URL-WITH-PASSWORD", cli,
            ["agents", "--server", "http://cli:\(cliPassword)@127.0.0.1:\(try refusedLoopbackPort())"])
        #expect(unreachable.status == 69, "\(unreachable.stderr)")
        let validate = try await fleet.run(
            "sonda-aggregator validate", cli, ["validate", fleet.path("aggregator.yaml")])
        #expect(validate.status == 0, "\(validate.stderr)")

        for path in [
            "/health", "/metrics", "/", "/checks/booking", "/checks/api", "/checks/portal", "/checks/legacy",
            "/v1/budgets", "/v1/uptime", "/v1/agents", "/v1/alerts", "/v1/silences",
            "/v1/checks/booking/results?limit=1000", "/v1/checks/api/results", "/v1/checks/portal/results",
            "/v1/checks/legacy/results",
        ] {
            try await fleet.fetch(fleet.server + path)
        }
        // What shows that the secrets were there to leak: the flow's token was sent (its `slots` step
        // passed) and masked where the failed assertion would show it.
        let booking = try await fleet.fetch(fleet.server + "/v1/checks/booking/results?limit=1000")
        let body = booking.components(separatedBy: "\r\n\r\n").last ?? ""
        let results = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["results"]
        let slots = (results as? [[String: Any]] ?? []).filter { $0["step"] as? String == "slots" }
        #expect(slots.contains { $0["ok"] as? Bool == true }, "the token was sent: \(booking)")
        #expect(booking.contains(#"actual \"[redacted]\""#), "the failed assertion masks the token: \(booking)")
        #expect(fleet.received.contains("booking") && fleet.received.contains("SondaTLSPolicy"), "\(fleet.received)")
        let unauthorized = try await fleet.fetch(fleet.server + "/v1/agents", token: wrongToken)
        #expect(unauthorized.contains("401"), "\(unauthorized)")
    }

    /// `audit verify` with the right and a wrong database password, and `serve` with a wrong one.
    static func auditAndWrongPasswords(_ fleet: SecretFleet) async throws {
        let cli = AggregatorEndToEndTests.aggregatorBinary
        let audit = try await fleet.run(
            "sonda-aggregator audit verify", cli, ["audit", "verify", "--config", fleet.path("aggregator.yaml")])
        #expect(audit.status == 0 && audit.stdout.hasPrefix("audit chain intact"), "\(audit.stdout)\(audit.stderr)")
        let wrong = SecretFleet.fresh("wrong database password")
        fleet.scan.secret("a wrong database password", wrong)
        let refused = try await fleet.run(
            "sonda-aggregator audit verify (wrong password)", cli,
            ["audit", "verify", "--config", fleet.path("aggregator.yaml")],
            environment: ["SONDA_DB_PASSWORD": wrong])
        #expect(refused.status == 69 && refused.stderr.contains("password"), "\(refused.stderr)")
        let serve = try await fleet.run(
            "sonda-aggregator serve (wrong password)", cli, ["serve", "--config", fleet.path("aggregator.yaml")],
            environment: ["SONDA_DB_PASSWORD": wrong])
        #expect(serve.status == 78 && serve.stderr.contains("password"), "\(serve.stderr)")
    }
}

import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// From a probe to a pager, with nothing in between replaced: the real `sonda-agent run` probes
/// the lab's TLS 1.2-only host under a TLS 1.3 policy, the real `sonda-aggregator serve` raises
/// SondaTLSPolicy and sends it to a real Prometheus Alertmanager (Debian's
/// `prometheus-alertmanager` on a loopback port); once the agent is pointed at the TLS 1.3 host
/// (config rewritten, SIGHUP) the alert is resolved and leaves Alertmanager's active list.
@Suite struct AlertmanagerEndToEndTests {
    static let alertmanagerBinary = "/usr/bin/prometheus-alertmanager"
    static let externalURL = "https://sonda.example.com.br"

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: alertmanagerBinary),
            "needs \(alertmanagerBinary): apt-get install prometheus-alertmanager (make test does)"))
    func tlsPolicyAlertReachesAlertmanagerAndIsResolvedWhenTheHostIsFixed() async throws {
        let lab = try TLSLab.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-am-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/am-data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // Alertmanager, with a receiver that delivers nowhere: the test reads its API.
        try """
            route: {receiver: blackhole, group_by: [alertname, check], group_wait: 1s}
            receivers: [{name: blackhole}]
            """.write(toFile: directory + "/alertmanager.yml", atomically: true, encoding: .utf8)
        let (alertmanager, amPort) = try await startListening { port in
            try BackgroundProcess(
                Self.alertmanagerBinary,
                [
                    "--config.file=\(directory)/alertmanager.yml", "--storage.path=\(directory)/am-data",
                    "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
                ])
        }
        let am = "http://127.0.0.1:\(amPort)"
        defer { alertmanager.signal(SIGKILL) }
        let ready = await eventually { await AlertmanagerAPI.get(am + "/-/ready") != nil }
        try #require(ready, "Alertmanager did not become ready on \(am):\n\(alertmanager.log)")

        // The aggregator: alerts every second, everything routed to that Alertmanager.
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "am-e2e")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") }, "\(keygen.stdout)\(keygen.stderr)")
        try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            agents:
              - {id: am-e2e, region: sao_paulo, site: lab, public_key: "\(publicKey)"}
            alerting:
              evaluate_every: 1s
              external_url: "\(Self.externalURL)"
              receivers: [{name: am, alertmanager: {url: "\(am)"}}]
              routes: [{receiver: am}]
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let aggregator = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/aggregator.port"])
        defer { aggregator.signal(SIGKILL) }
        let server = "http://127.0.0.1:\(try await aggregator.port(writtenTo: "\(directory)/aggregator.port"))"

        // The agent: one check against the TLS 1.2-only host, whose policy wants TLS 1.3.
        let check = "portal-\(UUID().uuidString.prefix(8).lowercased())"
        func agentConfig(host: String) -> String {
            """
            agent: {id: am-e2e, region: sao_paulo, site: lab}
            aggregator: {url: "\(server)", key: agent.key}
            spool: spool
            batch: {max_results: 50, max_age: 300ms}
            profiles: [none]
            checks:
              - {name: \(check), class: patient_data, interval: 1s, timeout: 1s, http: {url: "\(lab.url(host, "/api/health"))"}, tls: {min_version: "1.3", ca_file: \(lab.ca)}}
            """
        }
        try agentConfig(host: "tls12").write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try BackgroundProcess(AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        defer { agent.signal(SIGKILL) }
        func logs() async -> String {
            let held = await AlertmanagerAPI.alerts(am).map { "\($0)" } ?? "no answer"
            let ours = (try? await ChildProcess.run(AggregatorEndToEndTests.aggregatorBinary, ["alerts", "--server", server]))?.stdout ?? ""
            return """
                Alertmanager holds: \(held)
                sonda-aggregator alerts:
                \(ours)
                --- agent log
                \(agent.log)
                --- aggregator log
                \(aggregator.log)
                --- alertmanager log
                \(alertmanager.log.split(separator: "\n").suffix(30).joined(separator: "\n"))
                """
        }

        // Firing: SondaTLSPolicy, critical, on the check, with a link to its status page.
        var found: [String: Any]?
        _ = await eventually {
            found = await AlertmanagerAPI.alerts(am)?.first { alert in
                let labels = alert["labels"] as? [String: String]
                return labels?["alertname"] == "SondaTLSPolicy" && labels?["check"] == check
            }
            return found != nil
        }
        guard let firing = found else {
            Issue.record("SondaTLSPolicy for \(check) never reached Alertmanager\n\(await logs())")
            return
        }
        let labels = firing["labels"] as? [String: String] ?? [:]
        #expect(labels["severity"] == "critical", "\(firing)")
        #expect(labels["agent"] == "am-e2e" && labels["region"] == "sao_paulo", "\(firing)")
        #expect(labels["class"] == "patient_data", "\(firing)")
        #expect((firing["status"] as? [String: Any])?["state"] as? String == "active", "\(firing)")
        #expect(firing["generatorURL"] as? String == "\(Self.externalURL)/checks/\(check)", "\(firing)")
        let summary = (firing["annotations"] as? [String: String])?["summary"] ?? ""
        #expect(summary.contains("TLSv1.2"), "the summary names the version seen: \(firing)")

        // Fix the cause: the same check against the TLS 1.3 host, picked up on SIGHUP.
        try agentConfig(host: "tls13").write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        let resolved = await eventually {
            guard let all = await AlertmanagerAPI.alerts(am) else { return false }
            return !all.contains { ($0["labels"] as? [String: String])?["check"] == check && ($0["labels"] as? [String: String])?["alertname"] == "SondaTLSPolicy" }
        }
        if !resolved { Issue.record("SondaTLSPolicy for \(check) is still active in Alertmanager after the fix\n\(await logs())") }
        let history = try await ChildProcess.run(
            AggregatorEndToEndTests.aggregatorBinary, ["alerts", "--server", server, "--state", "resolved", "--json"])
        #expect(
            history.stdout.contains("SondaTLSPolicy") && history.stdout.contains(check),
            "the aggregator does not list the alert as resolved: \(history.stdout)\(history.stderr)")

        // Orderly shutdown; the deferred SIGKILLs cover every early exit above.
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "the agent did not drain on SIGTERM:\n\(agent.log)")
        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "the aggregator did not stop on SIGTERM:\n\(aggregator.log)")
        alertmanager.signal(SIGTERM)
        #expect(await alertmanager.wait() != nil, "Alertmanager did not stop on SIGTERM")
    }
}

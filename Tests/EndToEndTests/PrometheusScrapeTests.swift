import Foundation
import TestSupport
import Testing

/// A real Prometheus (Debian's) scrapes the running agent's and aggregator's `/metrics`, and its
/// query API returns the blackbox_exporter-style series and the aggregator's ingest counters.
@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func prometheusScrapesTheAgentAndTheAggregator() async throws {
        let lab = try TLSLab.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-prom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "prom-sp")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            agents: [{id: prom-sp, region: sao_paulo, public_key: "\(publicKey)"}]
            budgets: [{class: authentication, phase: total, quantile: p95, limit: 500ms}]
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let aggregator = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/aggregator.port"])
        defer { aggregator.signal(SIGTERM) }
        let aggregatorPort = try await aggregator.port(writtenTo: "\(directory)/aggregator.port")
        try """
            agent: {id: prom-sp, region: sao_paulo}
            aggregator: {url: "http://127.0.0.1:\(aggregatorPort)", key: agent.key}
            spool: spool
            batch: {max_results: 20, max_age: 300ms}
            profiles: [none]
            checks:
              - {name: health, class: authentication, interval: 300ms, timeout: 300ms, http: {url: "\(lab.url("tls13", "/api/health"))"}, tls: {ca_file: \(lab.ca)}}
            """.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try BackgroundProcess(
            AgentCLI.binary, ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"])
        defer { agent.signal(SIGTERM) }
        let agentPort = try await agent.agentListenPort()
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: sonda-agent
                static_configs: [{targets: ["127.0.0.1:\(agentPort)"]}]
              - job_name: sonda-aggregator
                static_configs: [{targets: ["127.0.0.1:\(aggregatorPort)"]}]
            """.write(toFile: "\(directory)/prometheus.yml", atomically: true, encoding: .utf8)

        let (prometheus, prometheusPort) = try await startListening { port in
            try BackgroundProcess(
                "/usr/bin/prometheus",
                [
                    "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/tsdb",
                    "--web.listen-address=127.0.0.1:\(port)",
                ])
        }
        defer { prometheus.signal(SIGTERM) }

        /// The value of an instant query's first series, once Prometheus has one.
        func query(_ promql: String) async throws -> String? {
            let run = try await ChildProcess.run(
                "/usr/bin/curl", ["-s", "--get", "--data-urlencode", "query=\(promql)", "http://127.0.0.1:\(prometheusPort)/api/v1/query"])
            let object = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            let data = object?["data"] as? [String: Any]
            let first = (data?["result"] as? [[String: Any]])?.first
            return (first?["value"] as? [Any])?.last as? String
        }
        var seen: [String: String] = [:]
        let wanted = [
            #"up{job="sonda-agent"}"#: "1",
            #"up{job="sonda-aggregator"}"#: "1",
            #"probe_success{check="health",profile="none"}"#: "1",
            #"probe_http_status_code{check="health"}"#: "200",
            #"probe_tls_version_info{check="health",version="TLS 1.3"}"#: "1",
        ]
        // Until every series has its value: Prometheus scrapes every second once it is up, and a
        // first scrape or probe that a loaded machine made slow does not decide the outcome.
        _ = await eventually(every: .milliseconds(500)) {
            for (name, value) in wanted where seen[name] != value { seen[name] = try? await query(name) }
            if seen["ingest"] == nil, let n = try? await query("sonda_ingest_results_total"), (Int(n) ?? 0) > 0 {
                seen["ingest"] = n
            }
            if seen["expiry"] == nil {
                seen["expiry"] = try? await query(#"probe_ssl_earliest_cert_expiry{check="health"} - time()"#)
            }
            // blackbox_exporter's dashboards chart probe_http_duration_seconds by its five phases.
            if seen["phases"] != "5" {
                seen["phases"] = try? await query(
                    #"count(probe_http_duration_seconds{check="health",phase=~"resolve|connect|tls|processing|transfer"})"#)
            }
            if seen["unaccounted"] == nil {  // of a probe that reached every phase
                seen["unaccounted"] = try? await query(
                    #"abs(sum by (check, profile) (probe_http_duration_seconds{check="health"})"#
                        + #" - on (check, profile) probe_duration_seconds{check="health"})"#
                        + #" and on (check, profile) count by (check, profile) (probe_http_duration_seconds) == 5"#)
            }
            return wanted.allSatisfy { seen[$0.key] == $0.value } && seen["ingest"] != nil && seen["expiry"] != nil
                && seen["phases"] == "5" && seen["unaccounted"] != nil
        }
        #expect(seen["phases"] == "5", "blackbox_exporter's phases: \(seen["phases"] ?? "no series")")
        #expect((Double(seen["unaccounted"] ?? "") ?? 1) < 1e-6, "the five phases add up to the probe's duration")
        for (name, value) in wanted {
            #expect(seen[name] == value, "\(name): \(seen[name] ?? "no series") — prometheus: \(prometheus.log.suffix(800))")
        }
        #expect(seen["ingest"] != nil, "the aggregator's ingest counter reached Prometheus")
        let days = (Double(seen["expiry"] ?? "") ?? 0) / 86_400
        #expect(days > 30, "the lab certificate expires in about a year: \(days) days")
    }
}

import Foundation
import TestSupport
import Testing
import Yams

/// The files under deploy/ are checked by the tools that will read them: amtool, promtool,
/// systemd-analyze, the two binaries' `validate`, and a YAML parser for the Kubernetes manifests.
@Suite struct DeployTests {
    static let root = TLSLab.packageRoot.path
    static let deploy = root + "/deploy"

    static func tool(_ name: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/", "/bin/"].map { $0 + name }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "sonda-deploy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(.enabled(if: tool("amtool") != nil, "needs amtool: apt-get install prometheus-alertmanager (make test does)"))
    func alertmanagerConfigIsValidAndRoutesEachSeverity() async throws {
        let amtool = try #require(Self.tool("amtool"))
        let file = Self.deploy + "/alertmanager.yml"
        let check = try await ChildProcess.run(amtool, ["check-config", file])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS"))
        let expected = ["critical": "pager", "high": "pager,sms", "medium": "slack", "low": "email"]
        for (severity, receivers) in expected {
            let route = try await ChildProcess.run(
                amtool,
                ["config", "routes", "test", "--config.file=\(file)", "severity=\(severity)", "alertname=SondaDown"])
            #expect(
                route.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == receivers,
                "\(severity): \(route.stderr)")
        }
        let config = try #require(try Yams.load(yaml: String(contentsOfFile: file, encoding: .utf8)) as? [String: Any])
        let inhibit = try #require((config["inhibit_rules"] as? [[String: Any]])?.first)
        #expect(inhibit["source_matchers"] as? [String] == [#"alertname="SondaDown""#])
        #expect(inhibit["target_matchers"] as? [String] == [#"alertname=~"SondaDegraded|SondaBudgetViolated""#])
        #expect(inhibit["equal"] as? [String] == ["check"])
        #expect((config["route"] as? [String: Any])?["group_by"] as? [String] == ["alertname", "check"])
    }

    @Test(.enabled(if: tool("promtool") != nil, "needs promtool: apt-get install prometheus (make test does)"))
    func prometheusConfigAndRulesAreValidAndTheRulesFireAsIntended() async throws {
        let promtool = try #require(Self.tool("promtool"))
        let directory = Self.deploy + "/prometheus"
        // --syntax-only: the token file named in the config exists only on the Prometheus host.
        let config = try await ChildProcess.run(
            promtool, ["check", "config", "--syntax-only", directory + "/prometheus.yml"])
        #expect(config.status == 0, "\(config.stdout)\(config.stderr)")
        let rules = try await ChildProcess.run(promtool, ["check", "rules", directory + "/sonda-rules.yml"])
        #expect(rules.status == 0, "\(rules.stdout)\(rules.stderr)")
        #expect(rules.stdout.contains("SUCCESS"))
        let unit = try await ChildProcess.run(promtool, ["test", "rules", directory + "/sonda-rules.test.yml"])
        #expect(unit.status == 0, "\(unit.stdout)\(unit.stderr)")
    }

    /// Every series the rules and the dashboard query is one the agent or the aggregator exports.
    @Test func rulesAndDashboardQueryOnlySeriesSondaExports() throws {
        let exporters = [
            "Sources/SondaAggregator/QueryAPI/AggregatorMetrics.swift",
            "Sources/SondaAgent/Daemon/AgentMetricFamily.swift",
            "Sources/SondaCore/FaultLog.swift",
        ]
        let exported = try exporters.map { try String(contentsOfFile: Self.root + "/" + $0, encoding: .utf8) }.joined()
        let rules = try String(contentsOfFile: Self.deploy + "/prometheus/sonda-rules.yml", encoding: .utf8)
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.deploy + "/grafana/sonda-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap {
            ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        #expect(expressions.count >= 8)
        let pattern = try NSRegularExpression(pattern: #"(?<![:\w])(?:sonda|probe)_[a-z0-9_]+"#)
        var names = Set<String>()
        for text in [rules] + expressions {
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                names.insert(String(text[Range(match.range, in: text)!]))
            }
        }
        #expect(names.contains("sonda_budget_limit_seconds") && names.contains("probe_success"))
        for name in names.sorted() {
            let family = name.replacingOccurrences(of: #"_(bucket|sum|count)$"#, with: "", options: .regularExpression)
            let written = [name, family].contains {
                exported.range(of: #"(?<![\w:])"# + $0 + #"(?!\w)"#, options: .regularExpression) != nil
            }
            #expect(written, "\(name) is exported by nobody")
        }
        // A datasource variable, used by every panel, so the dashboard imports into any Grafana.
        let variables = try #require((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]])
        #expect(variables.contains { $0["type"] as? String == "datasource" && $0["query"] as? String == "prometheus" })
        for panel in panels {
            #expect((panel["datasource"] as? [String: String])?["uid"] == "${datasource}", "\(panel["title"] ?? "")")
        }
    }

    @Test func aggregatorExamplesValidate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = [
            "SONDA_READ_TOKEN": "read-token", "SONDA_WEBHOOK_SECRET": "webhook-secret",
            "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/X",
        ]
        let binary = TLSLab.builtBinary("sonda-aggregator")
        // deploy/aggregator.yaml, installed as the README says: next to a copy of probes/budgets.yaml.
        try FileManager.default.copyItem(
            atPath: Self.deploy + "/aggregator.yaml", toPath: directory + "/aggregator.yaml")
        try FileManager.default.copyItem(
            atPath: Self.root + "/probes/budgets.yaml", toPath: directory + "/budgets.yaml")
        let run = try await ChildProcess.run(
            binary, ["validate", directory + "/aggregator.yaml"], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("2 agents, 11 budget rules"), "\(run.stdout)")
        #expect(run.stdout.contains("read endpoints need a token"))

        // The same file as the Kubernetes ConfigMap carries it.
        try FileManager.default.createDirectory(atPath: directory + "/k8s", withIntermediateDirectories: true)
        let data = try #require(
            try Self.manifests("aggregator.yaml").first { $0["kind"] as? String == "ConfigMap" }?["data"]
                as? [String: String])
        for (name, text) in data {
            try text.write(toFile: directory + "/k8s/" + name, atomically: true, encoding: .utf8)
        }
        let fromMap = try await ChildProcess.run(
            binary, ["validate", directory + "/k8s/aggregator.yaml"], environment: environment)
        #expect(fromMap.status == 0, "\(fromMap.stderr)")
        #expect(fromMap.stdout.contains("listen 0.0.0.0:9470"), "\(fromMap.stdout)")
    }

    @Test(arguments: ["agent-sao-paulo.yaml", "agent-rio-de-janeiro.yaml"])
    func agentConfigMapsValidate(_ file: String) async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let map = try #require(try Self.manifests(file).first { $0["kind"] as? String == "ConfigMap" })
        let data = try #require(map["data"] as? [String: String])
        for (name, text) in data { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        let run = try await ChildProcess.run(
            TLSLab.builtBinary("sonda-agent"), ["validate", directory + "/agent.yaml"],
            environment: ["SONDA_AGENT_KEY": directory + "/agent.key"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("2 checks × 3 profiles"), "\(run.stdout)")
    }

    /// Each file stands alone (beside namespace.yaml): what a workload mounts or reads is in the
    /// same file, or is a Secret the file's header says how to make.
    @Test func kubernetesManifestsHaveTheObjectsTheyReferTo() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.deploy + "/k8s").filter {
            $0.hasSuffix(".yaml")
        }
        var workloads: [String] = []
        for file in files.sorted() {
            let header = try String(contentsOfFile: Self.deploy + "/k8s/" + file, encoding: .utf8)
                .split(separator: "\n").prefix { $0.hasPrefix("#") }.joined(separator: "\n")
            var objects: [String: [String: Any]] = [:]
            for object in try Self.manifests(file) {
                let kind = try #require(object["kind"] as? String, "\(file): a document without kind")
                let metadata = try #require(object["metadata"] as? [String: Any], "\(file): \(kind) without metadata")
                let name = try #require(metadata["name"] as? String, "\(file): \(kind) without a name")
                #expect(object["apiVersion"] is String, "\(file): \(kind)/\(name) without apiVersion")
                if kind != "Namespace" { #expect(metadata["namespace"] as? String == "sonda", "\(kind)/\(name)") }
                objects["\(kind)/\(name)"] = object
            }
            func secretExists(_ name: String, key: String?) -> Bool {
                if let secret = objects["Secret/\(name)"] {
                    return key.map { (secret["stringData"] as? [String: Any])?[$0] != nil } ?? true
                }
                return header.contains("kubectl -n sonda create secret generic \(name) ")
                    && key.map { header.contains("--from-literal=\($0)=") } ?? true
            }
            for (id, object) in objects where id.hasPrefix("StatefulSet/") || id.hasPrefix("Deployment/") {
                let workload = "\(file): \(id)"
                workloads.append(workload)
                let spec = try #require(object["spec"] as? [String: Any])
                if let serviceName = spec["serviceName"] as? String {
                    #expect(objects["Service/\(serviceName)"] != nil, "\(workload): its Service exists")
                }
                let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
                #expect((pod["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool == true, "\(workload)")
                let containers = try #require(pod["containers"] as? [[String: Any]])
                for container in containers {
                    #expect((container["image"] as? String)?.isEmpty == false)
                    #expect(
                        (container["securityContext"] as? [String: Any])?["allowPrivilegeEscalation"] as? Bool == false)
                    for variable in container["env"] as? [[String: Any]] ?? [] {
                        guard let ref = ((variable["valueFrom"] as? [String: Any])?["secretKeyRef"]) as? [String: Any]
                        else { continue }
                        #expect(
                            secretExists(ref["name"] as? String ?? "", key: ref["key"] as? String),
                            "\(workload): no Secret for \(ref)")
                    }
                }
                for volume in pod["volumes"] as? [[String: Any]] ?? [] {
                    if let name = (volume["configMap"] as? [String: Any])?["name"] as? String {
                        #expect(objects["ConfigMap/\(name)"] != nil, "\(workload): missing ConfigMap \(name)")
                    }
                    if let name = (volume["secret"] as? [String: Any])?["secretName"] as? String {
                        #expect(secretExists(name, key: nil), "\(workload): missing Secret \(name)")
                    }
                }
            }
        }
        for workload in [
            "aggregator.yaml: StatefulSet/sonda-aggregator", "aggregator-postgres.yaml: Deployment/sonda-aggregator",
            "agent-sao-paulo.yaml: Deployment/sonda-agent-sao-paulo",
            "agent-rio-de-janeiro.yaml: Deployment/sonda-agent-rio-de-janeiro",
        ] {
            #expect(workloads.contains(workload), "\(workload) is missing")
        }
        let sqlite = try #require(
            try Self.manifests("aggregator.yaml").first { $0["kind"] as? String == "StatefulSet" })
        #expect(((sqlite["spec"] as? [String: Any])?["volumeClaimTemplates"] as? [Any])?.count == 1)
    }

    @Test(.enabled(if: tool("systemd-analyze") != nil, "needs systemd-analyze"))
    func systemdUnitsVerify() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for binary in ["sonda-agent", "sonda-aggregator"] {
            // The units name /usr/local/bin; verify them against the binaries just built.
            let unit = try String(contentsOfFile: "\(Self.deploy)/systemd/\(binary).service", encoding: .utf8)
            try unit.replacingOccurrences(of: "/usr/local/bin/\(binary)", with: TLSLab.builtBinary(binary))
                .write(toFile: "\(directory)/\(binary).service", atomically: true, encoding: .utf8)
            let run = try await ChildProcess.run(
                try #require(Self.tool("systemd-analyze")), ["verify", "\(directory)/\(binary).service"])
            #expect(run.status == 0, "\(binary): \(run.stdout)\(run.stderr)")
            #expect(!run.stderr.contains(binary + ".service"), "\(binary): \(run.stderr)")
            for setting in [
                "DynamicUser=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n", "NoNewPrivileges=yes",
            ] {
                #expect(unit.contains(setting), "\(binary).service lacks \(setting)")
            }
        }
    }

    /// The documented systemd rollout, done for real under a temporary root: the directories and
    /// files get the modes deploy/README.md and the units' headers give them, and the units' own
    /// commands (`validate`, as ExecStartPre runs it) run as an unprivileged user, as DynamicUser=
    /// runs them. The agent's key comes through a copy that user owns, as LoadCredential= hands it.
    @Test(.enabled(if: getuid() == 0, "needs root to run a command as nobody (CI runs as root)"))
    func theSystemdRolloutIsReadableByTheUnitsUser() async throws {
        let readme = try String(contentsOfFile: "\(Self.deploy)/README.md", encoding: .utf8)
        var documented = readme
        for unit in ["sonda-agent", "sonda-aggregator"] {
            documented += try String(contentsOfFile: "\(Self.deploy)/systemd/\(unit).service", encoding: .utf8)
        }
        let modes = documented.matches(of: /install -d -m (\d+) \/etc\/sonda/).map { String($0.output.1) }
        #expect(modes.count >= 3, "the rollout's directory commands: \(modes)")
        let root = "/tmp/sonda-rollout-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for path in ["", "/etc", "/var/lib/sonda-aggregator", "/var/lib/sonda", "/run/credentials", "/bin"] {
            try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
            chmod(root + path, 0o755)
        }
        // Copies of the binaries: the checkout may sit where that user cannot look. `install` writes
        // them in a process of its own, so no child this test process spawns meanwhile inherits a
        // descriptor open for writing (exec would fail with "Text file busy").
        for binary in ["sonda-agent", "sonda-aggregator"] {
            let copied = try await ChildProcess.run(
                "/usr/bin/install", ["-m", "0755", TLSLab.builtBinary(binary), "\(root)/bin/\(binary)"])
            #expect(copied.status == 0, "\(copied.stderr)")
        }
        for mode in Set(modes) {
            let etc = "\(root)/etc/sonda"
            try? FileManager.default.removeItem(atPath: etc)
            for directory in [etc, etc + "/checks"] {
                let made = try await ChildProcess.run("/usr/bin/install", ["-d", "-m", mode, directory])
                #expect(made.status == 0, "\(made.stderr)")
            }
            // `cp` under root's usual umask (022), as the README's commands run.
            func place(_ text: String, _ name: String) throws {
                try text.replacingOccurrences(of: "/etc/sonda", with: etc)
                    .replacingOccurrences(of: "/var/lib/", with: "\(root)/var/lib/")
                    .write(toFile: "\(etc)/\(name)", atomically: true, encoding: .utf8)
                chmod("\(etc)/\(name)", 0o644)
            }
            try place(try String(contentsOfFile: "\(Self.deploy)/agent.yaml", encoding: .utf8), "agent.yaml")
            try place(try String(contentsOfFile: "\(Self.deploy)/aggregator.yaml", encoding: .utf8), "aggregator.yaml")
            let probes = TLSLab.packageRoot.appendingPathComponent("probes").path
            try place(try String(contentsOfFile: "\(probes)/budgets.yaml", encoding: .utf8), "budgets.yaml")
            for check in try FileManager.default.contentsOfDirectory(atPath: "\(probes)/checks") {
                try place(try String(contentsOfFile: "\(probes)/checks/\(check)", encoding: .utf8), "checks/\(check)")
            }
            let keygen = try await ChildProcess.run(
                TLSLab.builtBinary("sonda-agent"), ["keygen", "--out", "\(etc)/agent.key", "--id", "sp-clinic-01"])
            #expect(keygen.status == 0, "\(keygen.stderr)")
            let credential = "\(root)/run/credentials/agent.key"
            try? FileManager.default.removeItem(atPath: credential)
            try FileManager.default.copyItem(atPath: "\(etc)/agent.key", toPath: credential)
            _ = try await ChildProcess.run("/usr/bin/chown", ["nobody", credential])

            let agent = try await ChildProcess.run(
                "/usr/sbin/runuser",
                [
                    "-u", "nobody", "--", "/usr/bin/env", "SONDA_AGENT_KEY=\(credential)",
                    "\(root)/bin/sonda-agent", "validate", "\(etc)/agent.yaml",
                ])
            #expect(agent.status == 0, "directories \(mode): \(agent.stdout)\(agent.stderr)")
            let aggregator = try await ChildProcess.run(
                "/usr/sbin/runuser",
                [
                    "-u", "nobody", "--", "/usr/bin/env", "SONDA_READ_TOKEN=read-token-0123456789",
                    "SONDA_WEBHOOK_SECRET=webhook-secret-0123", "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T/B/x",
                    "\(root)/bin/sonda-aggregator", "validate", "\(etc)/aggregator.yaml",
                ])
            #expect(aggregator.status == 0, "directories \(mode): \(aggregator.stdout)\(aggregator.stderr)")
        }
    }

    @Test(arguments: ["agent", "aggregator"])
    func dockerfilesAreMultiStageStaticAndUnprivileged(_ binary: String) throws {
        let text = try String(contentsOfFile: "\(Self.deploy)/docker/Dockerfile.\(binary)", encoding: .utf8)
        let stages = text.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(stages.count == 2, "a build stage and a runtime stage")
        #expect(stages.last == "FROM debian:bookworm-slim")
        #expect(text.contains("swift build -c release --product sonda-\(binary) --static-swift-stdlib"))
        #expect(text.contains("libcurl4"))
        #expect(text.contains("\nUSER sonda\n"))
        #expect(text.contains("\nHEALTHCHECK "))
    }

    static func manifests(_ file: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: Self.deploy + "/k8s/" + file, encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }
}

import Foundation
import TestSupport
import Testing
import Yams

/// The PostgreSQL setups under deploy/ hold what deploy/README.md says of them: two replicas on
/// Kubernetes with the probes, anti-affinity and disruption budget it describes, and the systemd
/// drop-in that hands the password to the config that reads it.
extension DeployTests {
    static let postgres = "/usr/lib/postgresql/15/bin/postgres"

    static func object(_ objects: [[String: Any]], kind: String) throws -> [String: Any] {
        try #require(objects.first { $0["kind"] as? String == kind }, "no \(kind)")
    }

    /// `value` at a path of keys through nested mappings, or nil.
    static func at(_ value: Any?, _ keys: String...) -> Any? {
        keys.reduce(value) { ($0 as? [String: Any])?[$1] }
    }

    /// Whether every label a selector asks for is on the pod.
    static func selects(_ selector: Any?, _ labels: [String: String]) -> Bool {
        guard let selector = selector as? [String: String], !selector.isEmpty else { return false }
        return selector.allSatisfy { labels[$0.key] == $0.value }
    }

    /// The PostgreSQL Deployment's one container and its pod's labels.
    static func postgresReplica() throws -> (
        deployment: [String: Any], labels: [String: String], container: [String: Any]
    ) {
        let deployment = try object(manifests("aggregator-postgres.yaml"), kind: "Deployment")
        let labels = try #require(at(deployment, "spec", "template", "metadata", "labels") as? [String: String])
        let containers = try #require(at(deployment, "spec", "template", "spec", "containers") as? [[String: Any]])
        return (deployment, labels, try #require(containers.first))
    }

    @Test func postgresKubernetesSetupHasTheReplicasProbesAndBudgetTheREADMEClaims() throws {
        let objects = try Self.manifests("aggregator-postgres.yaml")
        let (deployment, labels, container) = try Self.postgresReplica()
        #expect(Self.at(deployment, "spec", "replicas") as? Int == 2)
        #expect(Self.at(deployment, "spec", "strategy", "rollingUpdate", "maxSurge") as? Int == 0)
        #expect(Self.selects(Self.at(deployment, "spec", "selector", "matchLabels"), labels))
        let antiAffinity = Self.at(
            deployment, "spec", "template", "spec", "affinity", "podAntiAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution")
        let terms = try #require(antiAffinity as? [[String: Any]], "replicas are kept apart")
        #expect(
            terms.contains {
                $0["topologyKey"] as? String == "kubernetes.io/hostname"
                    && Self.selects(Self.at($0, "labelSelector", "matchLabels"), labels)
            }, "one replica per node")

        let budget = try Self.object(objects, kind: "PodDisruptionBudget")
        #expect(budget["apiVersion"] as? String == "policy/v1")
        #expect(Self.at(budget, "spec", "minAvailable") as? Int == 1)
        #expect(Self.selects(Self.at(budget, "spec", "selector", "matchLabels"), labels))

        // The same Service name as the SQLite manifest, and neither selects the other's pods.
        let service = try Self.object(objects, kind: "Service")
        #expect(Self.at(service, "metadata", "name") as? String == "sonda-aggregator")
        #expect(Self.selects(Self.at(service, "spec", "selector"), labels))
        let sqlite = try Self.manifests("aggregator.yaml")
        let sqliteLabels = try #require(
            Self.at(try Self.object(sqlite, kind: "StatefulSet"), "spec", "template", "metadata", "labels")
                as? [String: String])
        #expect(!Self.selects(Self.at(service, "spec", "selector"), sqliteLabels))
        #expect(!Self.selects(Self.at(try Self.object(sqlite, kind: "Service"), "spec", "selector"), labels))

        // Ready only while /health answers 2xx (it fails while the database does); alive while
        // the HTTP server answers at all, so no curl --fail; an hour to start during an outage.
        #expect(Self.at(container, "readinessProbe", "httpGet", "path") as? String == "/health")
        let liveness = try #require(Self.at(container, "livenessProbe", "exec", "command") as? [String])
        #expect(liveness.first == "curl" && liveness.contains { $0.hasSuffix("/health") })
        let shortOptions = liveness.filter { $0.hasPrefix("-") && !$0.hasPrefix("--") }.joined()
        #expect(!shortOptions.contains("f") && !liveness.contains { $0.hasPrefix("--fail") }, "a 503 is alive")
        #expect(Self.at(container, "startupProbe", "exec", "command") as? [String] == liveness)
        let startPeriod = (Self.at(container, "startupProbe", "periodSeconds") as? Int ?? 10)
        #expect(startPeriod * (Self.at(container, "startupProbe", "failureThreshold") as? Int ?? 3) >= 3600)
        #expect(Self.at(container, "resources", "limits", "memory") as? String == "256Mi")
        #expect(Self.at(container, "resources", "requests", "memory") as? String == "256Mi")

        // The password: Secret → env var → ${env:…} in the database URL → CloudNativePG's owner.
        let variables = try #require(container["env"] as? [[String: Any]])
        let password = try #require(variables.first { $0["name"] as? String == "SONDA_DATABASE_PASSWORD" })
        #expect(Self.at(password, "valueFrom", "secretKeyRef", "name") as? String == "sonda-db-app")
        #expect(Self.at(password, "valueFrom", "secretKeyRef", "key") as? String == "password")
        let config = try #require(
            Self.at(try Self.object(objects, kind: "ConfigMap"), "data", "aggregator.yaml") as? String)
        let pattern =
            /database: "postgres:\/\/(\w+):\$\{env:SONDA_DATABASE_PASSWORD\}@([\w.-]+):5432\/(\w+)\?sslmode=\w+"/
        let url = try #require(config.firstMatch(of: pattern), "the database URL reads the password from the variable")
        let cluster = try Self.object(Self.manifests("postgres-cnpg.yaml"), kind: "Cluster")
        #expect(cluster["apiVersion"] as? String == "postgresql.cnpg.io/v1")
        let clusterName = try #require(Self.at(cluster, "metadata", "name") as? String)
        #expect(String(url.output.2) == "\(clusterName)-rw.sonda.svc", "the URL names the cluster's read-write Service")
        #expect(Self.at(cluster, "spec", "bootstrap", "initdb", "database") as? String == String(url.output.3))
        #expect(Self.at(cluster, "spec", "bootstrap", "initdb", "owner") as? String == String(url.output.1))
        #expect(Self.at(cluster, "spec", "bootstrap", "initdb", "secret", "name") as? String == "sonda-db-app")
        #expect((Self.at(cluster, "spec", "instances") as? Int ?? 1) >= 2)
        for file in ["aggregator-postgres.yaml", "postgres-cnpg.yaml"] {
            let text = try String(contentsOfFile: Self.deploy + "/k8s/" + file, encoding: .utf8)
            #expect(
                text.contains("--type=kubernetes.io/basic-auth \\\n#     --from-literal=username=\(url.output.1) "),
                "\(file) makes the owner's basic-auth Secret")
        }
    }

    @Test func postgresConfigExamplesValidateWithTheirSecretsGiven() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let binary = TLSLab.builtBinary("sonda-aggregator")
        let tokens = [
            "SONDA_READ_TOKEN": "read-token", "SONDA_WEBHOOK_SECRET": "webhook-secret",
            "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/X",
        ]
        let password = "0f4c9d1e2b3a4f5e6d7c8b9a"

        // The Kubernetes ConfigMap, with the variable the Deployment sets from the Secret.
        let data = try #require(
            Self.at(try Self.object(Self.manifests("aggregator-postgres.yaml"), kind: "ConfigMap"), "data")
                as? [String: String])
        for (name, text) in data { try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
        let k8s = try await ChildProcess.run(
            binary, ["validate", "\(directory)/aggregator.yaml"],
            environment: tokens.merging(["SONDA_DATABASE_PASSWORD": password]) { $1 })
        #expect(k8s.status == 0, "\(k8s.stderr)")
        #expect(
            k8s.stdout.contains("database postgres://sonda:***@sonda-db-rw.sonda.svc:5432/sonda?sslmode=require"),
            "\(k8s.stdout)")
        #expect(!k8s.stdout.contains(password))
        let unset = try await ChildProcess.run(
            binary, ["validate", "\(directory)/aggregator.yaml"], environment: tokens)
        #expect(unset.status == 78 && unset.stderr.contains("SONDA_DATABASE_PASSWORD"), "\(unset.stderr)")

        // deploy/aggregator-postgres.yaml reads the credential the drop-in loads, where systemd puts it.
        let dropIn = try String(
            contentsOfFile: Self.deploy + "/systemd/sonda-aggregator.service.d/postgres.conf", encoding: .utf8)
        let credential = try #require(dropIn.firstMatch(of: /\nLoadCredential=([\w.-]+):(\/\S+)\n/))
        #expect(credential.output.2 == "/etc/sonda/database-password")
        let example = try String(contentsOfFile: Self.deploy + "/aggregator-postgres.yaml", encoding: .utf8)
        let credentials = "/run/credentials/sonda-aggregator.service/"
        #expect(example.contains("${file:\(credentials)\(credential.output.1)}"))
        try FileManager.default.createDirectory(atPath: "\(directory)/credentials", withIntermediateDirectories: true)
        try (password + "\n").write(
            toFile: "\(directory)/credentials/\(credential.output.1)", atomically: true, encoding: .utf8)
        try example.replacingOccurrences(of: credentials, with: "\(directory)/credentials/")
            .write(toFile: "\(directory)/systemd.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(directory)/budgets.yaml")
        try FileManager.default.copyItem(
            atPath: Self.root + "/probes/budgets.yaml", toPath: "\(directory)/budgets.yaml")
        let systemd = try await ChildProcess.run(
            binary, ["validate", "\(directory)/systemd.yaml"], environment: tokens)
        #expect(systemd.status == 0, "\(systemd.stderr)")
        #expect(systemd.stdout.contains("2 agents, 11 budget rules"), "\(systemd.stdout)")
        #expect(
            systemd.stdout.contains("database postgres://sonda:***@db.sonda.internal:5432/sonda?sslmode=verify-full"))
        #expect(!systemd.stdout.contains(password))
    }

    @Test(.enabled(if: tool("systemd-analyze") != nil, "needs systemd-analyze"))
    func postgresDropInVerifiesWithTheUnit() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let unit = try String(contentsOfFile: Self.deploy + "/systemd/sonda-aggregator.service", encoding: .utf8)
        let binary = TLSLab.builtBinary("sonda-aggregator")
        try unit.replacingOccurrences(of: "/usr/local/bin/sonda-aggregator", with: binary).write(
            toFile: "\(directory)/sonda-aggregator.service", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            atPath: Self.deploy + "/systemd/sonda-aggregator.service.d",
            toPath: "\(directory)/sonda-aggregator.service.d")
        let run = try await ChildProcess.run(
            try #require(Self.tool("systemd-analyze")), ["verify", "\(directory)/sonda-aggregator.service"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(
            !run.stderr.contains("sonda-aggregator.service"), "the unit and its drop-in load cleanly: \(run.stderr)")
    }

    /// The probes as the kubelet runs them, against a real replica whose database starts late,
    /// answers, then goes away: never restarted for it, and out of the Service while it is down.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: postgres), "needs postgresql-15"))
    func postgresProbesKeepAReplicaAliveButUnreadyWhileItsDatabaseIsDown() async throws {
        let (_, _, container) = try Self.postgresReplica()
        let cluster = try await DedicatedPostgres()
        defer { withExtendedLifetime(cluster) {} }
        let url = cluster.url
        func pgctl(_ action: String) async throws { try await cluster.control(action) }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = url.replacingOccurrences(of: "sonda@", with: "sonda:${env:SONDA_DATABASE_PASSWORD}@")
        try """
        listen: 127.0.0.1:0
        database: "\(database)?sslmode=disable"
        agents: []
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)

        var port = 9470
        func alive(_ probe: String) async throws -> Bool {
            let command = try #require(Self.at(container, probe, "exec", "command") as? [String])
            let run = try await ChildProcess.run(
                "/usr/bin/env", command.map { $0.replacingOccurrences(of: "127.0.0.1:9470", with: "127.0.0.1:\(port)") }
            )
            return run.status == 0
        }
        func ready() async throws -> Bool {
            let path = try #require(Self.at(container, "readinessProbe", "httpGet", "path") as? String)
            let timeout = Self.at(container, "readinessProbe", "timeoutSeconds") as? Int ?? 1
            let run = try await ChildProcess.run(
                "/usr/bin/curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "\(timeout)",
                    "http://127.0.0.1:\(port)\(path)",
                ])
            return (200..<400).contains(Int(run.stdout) ?? 0)
        }

        // Started while its database is down: it waits, not listening, so only a startup probe
        // with time to spare keeps liveness from restarting it.
        try await pgctl("stop")
        let replica = try BackgroundProcess(
            TLSLab.builtBinary("sonda-aggregator"),
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"],
            environment: ["SONDA_DATABASE_PASSWORD": "0f4c9d1e2b3a"])
        defer { replica.signal(SIGTERM) }
        #expect(await eventually { replica.log.contains("trying again") }, "\(replica.log)")
        #expect(try await !alive("startupProbe"))
        #expect(replica.exitStatus == nil, "it keeps trying")

        try await pgctl("start")
        port = try await replica.port(writtenTo: "\(directory)/port")
        #expect(try await alive("startupProbe"))
        #expect(try await alive("livenessProbe"))
        #expect(try await ready())

        try await pgctl("stop")
        #expect(await eventually { (try? await ready()) == false }, "out of the Service while its database is down")
        #expect(try await alive("livenessProbe"), "and not restarted for it")
        try await pgctl("start")
        #expect(await eventually { (try? await ready()) == true }, "ready again without a restart")
        #expect(replica.exitStatus == nil)
    }
}

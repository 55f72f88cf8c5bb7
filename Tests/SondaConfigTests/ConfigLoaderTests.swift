import Foundation
import SondaConfig
import SondaCore
import Testing

@Suite struct ConfigLoaderTests {
    static let probes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("probes")

    @Test(arguments: ["sao-paulo", "rio-de-janeiro", "international"])
    func shippedRegionsLoadCleanly(_ region: String) throws {
        var loader = ConfigLoader(environment: [:])
        let agent = loader.loadAgent(path: Self.probes.appendingPathComponent("regions/\(region).yaml").path)
        #expect(loader.diagnostics.isEmpty, "\(loader.diagnostics.map(\.description).joined(separator: "\n"))")
        let config = try #require(agent)
        #expect(config.profiles.count == 3)
        let classes = Set(config.checks.map(\.endpointClass))
        #expect(classes.isSuperset(of: ["authentication", "patient_data", "appointment_booking", "treatment_planning", "reporting"]))
        let flow = try #require(config.check(named: "booking-flow"))
        guard case .flow(let steps) = flow.target else {
            Issue.record("booking-flow is not a flow")
            return
        }
        #expect(steps.map(\.name) == ["login", "list-slots", "book"])
        #expect(config.budgets.count == 11)
        #expect(config.probesPerMinute > 0)
    }

    @Test func environmentSecretsResolveAndAreRedacted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-config-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("checks.yaml")
        try """
            checks:
              - name: login
                class: authentication
                http:
                  url: "${env:BASE}/login"
                  headers: {Authorization: "Bearer ${env:TOKEN}"}
                  body: '{"password":"${file:\(directory.path)/password}"}'
            """.write(to: file, atomically: true, encoding: .utf8)
        try "hunter2-secret\n".write(to: directory.appendingPathComponent("password"), atomically: true, encoding: .utf8)
        var loader = ConfigLoader(environment: ["BASE": "https://api.example.com.br", "TOKEN": "tok-123456"])
        let loaded = loader.loadChecks(path: file.path)
        let checks = try #require(loaded, "\(loader.diagnostics)")
        guard case .http(let step) = checks[0].target else { throw CancellationError() }
        #expect(step.url == "https://api.example.com.br/login")
        #expect(step.headers == [HeaderTemplate(name: "Authorization", value: "Bearer tok-123456")])
        #expect(step.body == #"{"password":"hunter2-secret"}"#)
        let redacted = loader.redactor.redact("sent Bearer tok-123456 and hunter2-secret")
        #expect(redacted == "sent Bearer [redacted] and [redacted]")
        #expect(loader.redactor.redact(step.url) == step.url, "a base URL from the environment is not a secret")
    }

    @Test func validSmallConfigHasNoDiagnostics() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-ok-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
            checks:
              - name: tls-only
                class: custom:mail
                tls_handshake: "mail.example.com.br:465"
                tls: {min_version: "1.2", expiry_warning: 30d, expiry_critical: 10d}
              - name: health
                class: authentication
                interval: 15s
                timeout: 2s
                http: {url: "https://api.example.com.br/health"}
                expect:
                  status: [200, 204]
                  headers: {Content-Type: {contains: json}}
                  json: {"$.status": ok, "$.items": {length: 2}}
                  max: {wait: 150ms}
            """.write(to: file, atomically: true, encoding: .utf8)
        var loader = ConfigLoader(environment: [:])
        let loaded = loader.loadChecks(path: file.path)
        let checks = try #require(loaded, "\(loader.diagnostics)")
        #expect(checks.count == 2)
        #expect(checks[0].target == .tls(host: "mail.example.com.br", port: 465))
        #expect(checks[0].tls.minVersion == "TLSv1.2")
        guard case .http(let step) = checks[1].target else { throw CancellationError() }
        #expect(step.expect.contains(.status([200...200, 204...204])))
        #expect(step.expect.contains(.maxDuration(phase: .wait, limit: .milliseconds(150))))
        #expect(step.expect.contains(.jsonPath(path: "$.items", .length(2))))
    }

    @Test func agentFilesMayDefineTheirOwnProfiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-profiles-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            profiles:
              - {name: clinic_wifi, rtt: 60ms, down_kbps: 8000, up_kbps: 2000, source: "measured at clinica-paulista"}
            """.write(to: directory.appendingPathComponent("profiles.yaml"), atomically: true, encoding: .utf8)
        let agentFile = directory.appendingPathComponent("agent.yaml")
        try """
            agent: {id: a, region: sao_paulo}
            profile_definitions: profiles.yaml
            profiles: [clinic_wifi, mobile_3g_brazil]
            checks: [{name: h, class: authentication, http: {url: "https://x.example/"}}]
            """.write(to: agentFile, atomically: true, encoding: .utf8)
        var loader = ConfigLoader(environment: [:])
        let loaded = loader.loadAgent(path: agentFile.path)
        let agent = try #require(loaded, "\(loader.diagnostics)")
        #expect(agent.profiles.map(\.name) == ["clinic_wifi", "mobile_3g_brazil"])
        #expect(agent.profiles[0].rttMilliseconds == 60)
    }

    @Test func anAgentCAFileTrustsForEveryCheckWithoutItsOwn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-ca-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "pem".write(to: directory.appendingPathComponent("clinic-ca.pem"), atomically: true, encoding: .utf8)
        try "pem".write(to: directory.appendingPathComponent("own.pem"), atomically: true, encoding: .utf8)
        let agentFile = directory.appendingPathComponent("agent.yaml")
        try """
            agent: {id: a, region: sao_paulo}
            ca_file: clinic-ca.pem
            checks:
              - {name: a, class: authentication, http: {url: "https://x.example/"}}
              - {name: b, class: authentication, http: {url: "https://y.example/"}, tls: {ca_file: own.pem}}
            """.write(to: agentFile, atomically: true, encoding: .utf8)
        var loader = ConfigLoader(environment: [:])
        let loaded = loader.loadAgent(path: agentFile.path)
        let agent = try #require(loaded, "\(loader.diagnostics)")
        #expect(agent.checks[0].caFile?.hasSuffix("/clinic-ca.pem") == true)
        #expect(agent.checks[1].caFile?.hasSuffix("/own.pem") == true)
    }
}

import Foundation
import TestSupport
import Testing

@Suite struct ConfigCommandTests {
    static let root = TLSLab.packageRoot.path

    @Test func shippedProbesValidate() async throws {
        let run = try await AgentCLI.run([
            "validate", "\(Self.root)/probes/regions/sao-paulo.yaml", "\(Self.root)/probes/regions/rio-de-janeiro.yaml",
            "\(Self.root)/probes/regions/international.yaml", "\(Self.root)/probes/budgets.yaml",
            "\(Self.root)/probes/checks/clinic-api.yaml",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("agent sp-clinic-01 (sao_paulo): 7 checks × 3 profiles (desktop_brazil, mobile_4g_brazil, mobile_3g_brazil)"))
        #expect(run.stdout.contains("probes per minute"))
        #expect(run.stdout.contains("budgets.yaml: 11 budget rules"))
    }

    @Test func brokenConfigPrintsEveryProblemWithACaretAndExits78() async throws {
        let run = try await AgentCLI.run([
            "validate", "\(Self.root)/Tests/Fixtures/configs/unknown-keys.yaml",
            "\(Self.root)/Tests/Fixtures/configs/wrong-types.yaml",
        ])
        #expect(run.status == 78)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("unknown-keys.yaml:4:5: error: unknown key 'timout' in a check (did you mean 'timeout'?)"))
        #expect(run.stderr.contains("    timout: 5s\n    ^"))
        #expect(run.stderr.contains("wrong-types.yaml:"))
        #expect(run.stderr.contains(" errors\n"))
    }

    @Test func runsAConfiguredFlowWithoutLeakingSecrets() async throws {
        let lab = try TLSLab.shared()
        let password = "s3cret-pass-\(UUID().uuidString.prefix(8))"
        let environment = ["CLINIC_API": "https://localhost:\(lab.port("tls13"))", "CLINIC_PASSWORD": password]
        let arguments = [
            "probe", "--check", "booking-flow", "--config", "\(Self.root)/probes/regions/sao-paulo.yaml",
            "--ca-file", lab.ca, "--budget", "30s",
        ]
        let human = try await ChildProcess.run(AgentCLI.binary, arguments, environment: environment)
        #expect(human.status == 0, "\(human.stdout)\(human.stderr)")
        for step in ["/login", "/api/slots", "/api/book"] { #expect(human.stdout.contains(step)) }
        let json = try await ChildProcess.run(AgentCLI.binary, arguments + ["--json", "--count", "2"], environment: environment)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.lines.count == 8, "3 steps + the flow, twice")
        for output in [human.stdout, human.stderr, json.stdout, json.stderr] {
            #expect(!output.contains(password))
            #expect(!output.contains("sonda-secret-token-123"))
        }
        #expect(json.stdout.contains(#""check":"booking-flow""#))
        #expect(json.stdout.contains(#""step":"list-slots""#))
    }

    @Test func unknownCheckNamesTheOnesThatExist() async throws {
        let run = try await AgentCLI.run([
            "probe", "--check", "bookng-flow", "--config", "\(Self.root)/probes/regions/sao-paulo.yaml",
        ])
        #expect(run.status == 78)
        #expect(run.stderr.contains("no check named 'bookng-flow'"))
        #expect(run.stderr.contains("booking-flow"))
    }
}

import Foundation
import TestSupport
import Testing

/// `sonda-agent probe --cert/--key/--cert-type/--pass` and a configured check's `tls.client_cert`
/// against nginx demanding a client certificate, as a user runs them: what the result and the
/// waterfall say, the exit codes, and that the passphrase shows nowhere.
@Suite struct ClientCertificateCommandTests {
    static func object(_ run: ChildProcess.Output) throws -> [String: Any] {
        let line = try #require(run.lines.first, "no output; stderr: \(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func anEncryptedKeyWithItsPassphraseIsAcceptedAndReported() async throws {
        let mutual = try MutualTLSLab.shared()
        let har = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-mtls-\(UUID()).har").path
        defer { try? FileManager.default.removeItem(atPath: har) }
        let flags = [
            "--ca-file", mutual.lab.ca, "--cert", mutual.certificate, "--key", mutual.encryptedKey, "--pass",
            MutualTLSLab.passphrase,
        ]
        let run = try await AgentCLI.run(["probe", mutual.lab.url("mtls"), "--json", "--har", har] + flags)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let tls = try #require(try Self.object(run)["tls"] as? [String: Any])
        let client = try #require(tls["client_cert"] as? [String: Any])
        #expect(client["subject"] as? String == "CN=sonda-agent" && client["sent"] as? Bool == true)
        #expect((client["sha256"] as? String)?.count == 64 && client["not_after"] is String)
        let waterfall = try await AgentCLI.run(["probe", mutual.lab.url("mtls")] + flags)
        #expect(
            waterfall.stdout.contains("client certificate CN=sonda-agent · sent · expires "), "\(waterfall.stdout)")
        let everything = run.stdout + run.stderr + waterfall.stdout + (try String(contentsOfFile: har, encoding: .utf8))
        #expect(!everything.contains(MutualTLSLab.passphrase))
    }

    @Test func aServerThatWantsACertificateAndGetsNoneFails() async throws {
        let mutual = try MutualTLSLab.shared()
        let run = try await AgentCLI.run("probe", mutual.lab.url("mtls"), "--ca-file", mutual.lab.ca, "--json")
        #expect(run.status == 1)
        let error = try #require(try Self.object(run)["error"] as? [String: Any])
        #expect(error["code"] as? String == "tls_client_cert", "\(error)")
    }

    @Test func aConfiguredCheckPresentsItsCertificateFromAPKCS12() async throws {
        let mutual = try MutualTLSLab.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-mtls-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        checks:
          - name: partner-api
            class: patient_data
            http: {url: "\(mutual.lab.url("mtls"))"}
            tls: {ca_file: \(mutual.lab.ca), client_cert: \(mutual.pkcs12), client_key_password: "${env:P12_PASS}"}
        """.write(toFile: "\(directory)/checks.yaml", atomically: true, encoding: .utf8)
        let run = try await ChildProcess.run(
            AgentCLI.binary, ["probe", "--check", "partner-api", "--config", "\(directory)/checks.yaml", "--json"],
            environment: ["P12_PASS": MutualTLSLab.passphrase])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let client = (try Self.object(run)["tls"] as? [String: Any])?["client_cert"] as? [String: Any]
        #expect(client?["sent"] as? Bool == true)
        let wrong = try await ChildProcess.run(
            AgentCLI.binary, ["validate", "\(directory)/checks.yaml"], environment: ["P12_PASS": "not-the-pass"])
        #expect(wrong.status == 78)
        #expect(wrong.stderr.contains("checks.yaml:5:"), "\(wrong.stdout)\(wrong.stderr)")
        #expect((wrong.stdout + wrong.stderr).contains("client_key_password does not decrypt"))
        #expect(!(wrong.stdout + wrong.stderr).contains("not-the-pass"))
    }

    @Test(arguments: [
        (["--key", "x.key"], 64, "--key goes with --cert"),
        (["--cert", "c.pem", "--cert-type", "JKS"], 64, "--cert-type must be PEM, DER or P12"),
        (["--cert", "/nonexistent/c.pem"], 78, "cannot read --cert '/nonexistent/c.pem'"),
        (["--cert", "CERT", "--key", "ENCRYPTED", "--pass", "wrong-passphrase"], 78, "--pass does not decrypt"),
        (["--cert", "CERT", "--key", "ENCRYPTED"], 78, "is encrypted: give --pass"),
    ])
    func unusableFlagsAreRefusedBeforeAnyProbe(_ flags: [String], _ status: Int32, _ message: String) async throws {
        let mutual = try MutualTLSLab.shared()
        let resolved = flags.map {
            $0 == "CERT" ? mutual.certificate : $0 == "ENCRYPTED" ? mutual.encryptedKey : $0
        }
        let run = try await AgentCLI.run(["probe", mutual.lab.url("mtls")] + resolved)
        #expect(run.status == status, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(!run.stderr.contains("wrong-passphrase"))
    }
}

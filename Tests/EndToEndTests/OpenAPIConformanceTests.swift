import Foundation
import TestSupport
import Testing

/// docs/openapi.yaml checked by a client that reads only it: schemathesis (PyPI; `make test`
/// installs it) sends examples, fuzzed and stateful requests to the built aggregator, once with
/// an admin token and once with a read token, and every answer's status, content type and body
/// must be what the document says (an undeclared method gets 405, a read token changing a
/// silence 403, invalid data 4xx). Bounded and deterministic: the same few hundred requests each run.
///
/// Left out: `POST /v1/results` (a generated body cannot carry a valid signature; its contract
/// is tested with real agents and docs/schema), and schemathesis's positive-data check, which
/// expects any value the schema admits to be taken, while a list cursor must be one this server
/// gave and a window must lie within the retention, which no schema can say.
@Suite struct OpenAPIConformanceTests {
    @Test func everyAnswerIsWhatTheDocumentSays() async throws {
        let directory = NSTemporaryDirectory() + "sonda-openapi-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        let (read, admin) = ("read-token-for-schemathesis", "admin-token-for-schemathesis")
        try """
            listen: 127.0.0.1:0
            database: sonda.sqlite
            read_tokens: [\(read)]
            admin_tokens: [\(admin)]
            agents: [{id: bench, region: sao_paulo, public_key: "\(publicKey)"}]
            budgets:
              - {class: authentication, limit: 300ms}
            """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"])
        defer { serve.signal(SIGKILL) }
        let port = try await serve.port(writtenTo: "\(directory)/port")
        let server = "http://127.0.0.1:\(port)"

        // Something in every list: results (budgets, uptime, a check's results), an agent, a silence.
        let load = try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port", "\(port)",
                "--key", "\(directory)/agent.key", "--senders", "1", "--batch", "50", "--batches", "2", "--lazy",
            ])
        #expect(load.status == 0, "\(load.stderr)")
        let silence = try await ChildProcess.run(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(admin)", "-H",
                "Content-Type: application/json", "--data", #"{"matchers":{"check":"check-1"},"duration":"2h"}"#,
                "\(server)/v1/silences",
            ])
        #expect(silence.stdout == "201")

        for (token, examples) in [(admin, 10), (read, 5)] {
            let run = try await ChildProcess.run(
                "/usr/bin/env",
                [
                    "-C", directory, "schemathesis", "run", TLSLab.packageRoot.appendingPathComponent("docs/openapi.yaml").path,
                    "--url", server, "--header", "Authorization: Bearer \(token)", "--max-examples", "\(examples)",
                    "--generation-deterministic", "--workers", "1", "--request-timeout", "60",
                    "--exclude-checks", "positive_data_acceptance", "--exclude-path", "/v1/results",
                    "--no-color",
                ])
            let summary = run.stdout.split(separator: "\n").last ?? ""
            #expect(run.status == 0, "with the \(token == admin ? "admin" : "read") token: \(summary)\n\(run.stdout.suffix(6000))\(run.stderr)")
            #expect(run.stdout.contains("passed"), "it ran: \(run.stdout.suffix(2000))")
        }
    }
}

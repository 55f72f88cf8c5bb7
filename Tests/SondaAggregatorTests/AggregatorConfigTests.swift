import Foundation
import SondaConfig
import Testing

@Suite struct AggregatorConfigTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/aggregator").path

    @Test func theExampleLoads() throws {
        var loader = AggregatorConfigLoader(environment: [:])
        let loaded = loader.load(path: Self.fixtures + "/aggregator.yaml")
        let config = try #require(loaded, "\(loader.diagnostics)")
        #expect(config.port == 9470 && config.agents.count == 2 && config.agents[0].publicKey.count == 32)
        #expect(config.budgets.count >= 5)
        #expect(abs(config.slo.availability - 0.999) < 1e-12 && config.readTokens.isEmpty)
        #expect(config.database.hasSuffix("Fixtures/aggregator/./sonda.sqlite"))
    }

    @Test func adminTokensAreReadAndTheirProblemsReportedWithTheirPosition() throws {
        var loader = AggregatorConfigLoader(environment: [:])
        #expect(loader.load(path: Self.fixtures + "/admin-tokens-bad.yaml") == nil)
        #expect(
            loader.diagnostics.map { "\($0.line):\($0.column): \($0.message)" } == [
                "5:5: an admin token must be at least 16 characters (openssl rand -hex 16 makes one)",
                "6:5: this admin token is also a read token; an admin token can read too, so list it once",
                "8:5: items of 'admin_tokens' must be strings",
            ])
        let good = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID().uuidString).yaml").path
        try "admin_tokens: [\"${env:SONDA_ADMIN_TOKEN}\", \"${env:UNSET:-}\"]\n".write(
            toFile: good, atomically: true, encoding: .utf8)
        var env = AggregatorConfigLoader(environment: ["SONDA_ADMIN_TOKEN": "admin-token-0123456789abcdef"])
        let loaded = env.load(path: good)
        let config = try #require(loaded, "\(env.diagnostics)")
        #expect(config.adminTokens == ["admin-token-0123456789abcdef"] && config.readTokens.isEmpty)
    }

    @Test func everyProblemIsReportedWithItsPosition() throws {
        var loader = AggregatorConfigLoader(environment: [:])
        let loaded = loader.load(path: Self.fixtures + "/bad.yaml")
        #expect(loaded == nil)
        let messages = loader.diagnostics.map { "\($0.line):\($0.column): \($0.message)" }
        #expect(
            messages == [
                "1:9: 'listen' must be HOST:PORT (e.g. 127.0.0.1:9470), got 'localhost'",
                "2:1: unknown key 'databse' in an aggregator file (did you mean 'database'?)",
                "4:55: 'public_key' must be ed25519:BASE64 of 32 bytes (sonda-agent keygen prints it), got 'rsa:abc'",
                "5:5: an agent is missing required key 'region'",
                "5:5: agent 'sp-clinic-01' is listed twice",
                "6:21: 'availability' must be a percentage below 100, like 99.9%, got '120%'",
            ] + messages.filter { $0.hasPrefix("8:") } + [
                "9:27: 'request_timeout' must be at least 100ms",
                "9:70: 'max_connections' must be a whole number from 1 to 1000000, got '0'",
            ])
        #expect(messages.contains { $0.hasPrefix("8:") && $0.contains("totl") })
    }
}

import Foundation
import SondaConfig
import Testing

/// `aggregator: {url}` or `aggregator: {urls: [...]}` in an agent file, and the errors around them.
@Suite struct AggregatorURLTests {
    /// Loads an agent file whose second line is `aggregator` (the line diagnostics point into).
    static func load(_ aggregator: String) throws -> (AgentConfig?, [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-urls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("agent.yaml").path
        try """
        agent: {id: a, region: sao_paulo}
        \(aggregator)
        checks: [{name: h, class: authentication, http: {url: "https://x.example/"}}]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        var loader = ConfigLoader(environment: ["AGG_B": "https://b.example"])
        let agent = loader.loadAgent(path: file)
        return (agent, loader.diagnostics.map { "\($0.line):\($0.column): \($0.message)" })
    }

    @Test func oneURLStillWorks() throws {
        let (agent, diagnostics) = try Self.load(#"aggregator: {url: "https://a.example", key: agent.key}"#)
        #expect(diagnostics.isEmpty)
        #expect(agent?.aggregatorURLs == ["https://a.example"])
        #expect(agent?.keyFile?.hasSuffix("/agent.key") == true)
    }

    @Test func severalURLsKeepTheirOrder() throws {
        let (agent, diagnostics) = try Self.load(
            #"aggregator: {urls: ["https://a.example", "${env:AGG_B}", "http://127.0.0.1:9470/"], key: k}"#)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(agent?.aggregatorURLs == ["https://a.example", "https://b.example", "http://127.0.0.1:9470/"])
    }

    /// What the error message says is accepted is what is accepted: http:// to any host, either
    /// scheme in any case.
    @Test func plainHTTPToAnyHostIsAcceptedAsTheMessageSays() throws {
        let (agent, diagnostics) = try Self.load(
            #"aggregator: {urls: ["http://sonda.example:9470", "HTTPS://b.example", "http://[::1]:9470"], key: k}"#)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(agent?.aggregatorURLs == ["http://sonda.example:9470", "HTTPS://b.example", "http://[::1]:9470"])
    }

    @Test(arguments: [
        (
            #"aggregator: {url: "https://a.example", urls: ["https://b.example"]}"#,
            "2:40: 'aggregator' takes 'url' (one aggregator) or 'urls' (several, tried in turn), not both"
        ),
        (#"aggregator: {urls: []}"#, "2:20: 'urls' must list at least one aggregator URL"),
        (#"aggregator: {urls: , key: k}"#, "2:20: 'urls' must list at least one aggregator URL"),
        (#"aggregator: {key: k}"#, "2:13: 'aggregator' is missing required key 'url' (or 'urls', a list)"),
        (
            #"aggregator: {urls: ["https://a.example", "ftp://b.example"]}"#,
            "2:42: aggregator url must be an https:// or http:// URL with a host, got 'ftp://b.example'"
        ),
        (
            #"aggregator: {url: "http://", key: k}"#,
            "2:19: aggregator url must be an https:// or http:// URL with a host, got 'http://'"
        ),
        (
            #"aggregator: {url: "https:/a.example", key: k}"#,
            "2:19: aggregator url must be an https:// or http:// URL with a host, got 'https:/a.example'"
        ),
        (
            #"aggregator: {urls: ["https://a.example", "https://a.example/"]}"#,
            "2:42: aggregator url 'https://a.example/' is listed twice"
        ),
        (#"aggregator: {urls: {a: 1}}"#, "2:20: 'urls' must be a list of strings"),
    ])
    func mistakesAreReportedWithTheirPlace(_ aggregator: String, _ expected: String) throws {
        let (agent, diagnostics) = try Self.load(aggregator)
        #expect(agent == nil)
        #expect(diagnostics == [expected])
    }
}

import Foundation
import SondaConfig
import Testing

@testable import SondaAgent

/// `ConfigDigest`: the heartbeat's `config_hash` covers every file an agent configuration reads,
/// and changes with any of them.
@Suite struct ConfigDigestTests {
    /// An agent file naming a profiles file, two included check files and a budgets file.
    static func writeConfiguration(in directory: String) throws {
        let files = [
            "agent.yaml": """
            agent: {id: a1, region: sao_paulo}
            profiles: [desk]
            profile_definitions: profiles.yaml
            include: [checks/*.yaml]
            budgets: budgets.yaml
            """,
            "profiles.yaml": "profiles:\n  - {name: desk, rtt: 10ms}\n",
            "checks/a.yaml": "checks:\n  - {name: a, class: authentication, http: {url: \"https://a.example/\"}}\n",
            "checks/b.yaml": "checks:\n  - {name: b, class: reporting, http: {url: \"https://b.example/\"}}\n",
            "budgets.yaml": "budgets:\n  - {class: authentication, phase: total, quantile: p95, limit: 100ms}\n",
        ]
        try FileManager.default.createDirectory(atPath: directory + "/checks", withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
    }

    static func load(_ directory: String) throws -> AgentConfig {
        var loader = ConfigLoader(environment: [:])
        let config = loader.loadAgent(path: directory + "/agent.yaml")
        #expect(loader.diagnostics.isEmpty, "\(loader.diagnosticsText)")
        return try #require(config)
    }

    @Test func everyFileReadCountsAndAChangeToAnyChangesTheHash() throws {
        let directory = NSTemporaryDirectory() + "sonda-digest-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.writeConfiguration(in: directory)
        let config = try Self.load(directory)
        #expect(
            config.sourceFiles.map { ($0.path as NSString).lastPathComponent }
                == ["agent.yaml", "profiles.yaml", "a.yaml", "b.yaml", "budgets.yaml"])
        let digest = ConfigDigest.of(config)
        #expect(digest.count == 64 && digest.allSatisfy(\.isHexDigit))
        #expect(ConfigDigest.of(try Self.load(directory)) == digest, "the same files, the same hash")

        var seen: Set<String> = [digest]
        for name in ["profiles.yaml", "checks/b.yaml", "budgets.yaml", "agent.yaml"] {
            let path = "\(directory)/\(name)"
            try (try String(contentsOfFile: path, encoding: .utf8) + "\n# edited\n").write(
                toFile: path, atomically: true, encoding: .utf8)
            #expect(seen.insert(ConfigDigest.of(try Self.load(directory))).inserted, "\(name) is covered")
        }
        try "checks:\n  - {name: c, class: reporting, http: {url: \"https://c.example/\"}}\n".write(
            toFile: "\(directory)/checks/c.yaml", atomically: true, encoding: .utf8)
        #expect(seen.insert(ConfigDigest.of(try Self.load(directory))).inserted, "a new included file is covered")
    }
}

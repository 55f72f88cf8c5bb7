import Foundation
import SondaConfig
import Testing

/// Each malformed config under Tests/Fixtures/configs/ against its expected diagnostics
/// (NAME.yaml → NAME.diagnostics); SONDA_UPDATE_GOLDEN=1 rewrites them.
@Suite struct DiagnosticsGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/configs")

    static let cases = [
        "unknown-keys", "wrong-types", "agent-unknown-profile", "cycle-a", "flow-variables", "bad-yaml", "secrets",
    ]

    static func diagnostics(for name: String) -> String {
        let path = directory.appendingPathComponent("\(name).yaml").path
        var loader = ConfigLoader(environment: [:])
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if ConfigLoader.kind(ofText: text) == .agent {
            _ = loader.loadAgent(path: path)
        } else {
            _ = loader.loadChecks(path: path)
        }
        return loader.diagnostics.map(\.description).joined(separator: "\n")
            .replacingOccurrences(of: directory.path + "/", with: "") + "\n"
    }

    @Test(arguments: cases)
    func matchesGolden(_ name: String) throws {
        let text = Self.diagnostics(for: name)
        let golden = Self.directory.appendingPathComponent("\(name).diagnostics")
        if ProcessInfo.processInfo.environment["SONDA_UPDATE_GOLDEN"] == "1" {
            try text.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(text == (try String(contentsOf: golden, encoding: .utf8)), "\n\(text)")
        #expect(text.contains(": error: "))
    }
}

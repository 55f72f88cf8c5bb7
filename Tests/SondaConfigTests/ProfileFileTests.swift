import Foundation
import SondaConfig
import SondaCore
import Testing

/// probes/profiles.yaml documents exactly the built-in table, and bad user profiles are errors
/// that point at the line.
@Suite struct ProfileFileTests {
    static let shipped = ConfigLoaderTests.probes.appendingPathComponent("profiles.yaml").path

    @Test func theShippedFileIsTheBuiltInTable() throws {
        var loader = ConfigLoader()
        let loaded = loader.loadProfiles(path: Self.shipped)
        let profiles = try #require(loaded, "\(loader.diagnostics)")
        // Durations parse through floating point: 70ms reads as 70.00000000000001.
        #expect(profiles.map(\.name) == NetworkProfile.builtIn.map(\.name))
        for (file, table) in zip(profiles, NetworkProfile.builtIn) {
            #expect(abs(file.rttMilliseconds - table.rttMilliseconds) < 1e-6, "\(file.name)")
            #expect(file.downlinkKilobitsPerSecond == table.downlinkKilobitsPerSecond, "\(file.name)")
            #expect(file.uplinkKilobitsPerSecond == table.uplinkKilobitsPerSecond, "\(file.name)")
            #expect(file.source == table.source, "\(file.name)")
        }
        for name in ["3G", "4G", "Cable", "mobile_3g_brazil", "vivo_4g", "claro_3g", "tim_4g", "oi_3g"] {
            #expect(profiles.contains { $0.name == name }, "\(name)")
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var message: String
        var testDescription: String { message }
    }

    @Test(arguments: [
        Case(yaml: "profiles:\n  - {name: x, rtt: 50ms, down_kbps: 0}\n", message: "down_kbps of profile 'x' must be more than 0"),
        Case(yaml: "profiles:\n  - {name: x, rtt: 50ms, up_kbps: -5}\n", message: "up_kbps of profile 'x' must be more than 0"),
        Case(yaml: "profiles:\n  - {name: x, rtt: 11s}\n", message: "rtt of profile 'x' must be at most 10s"),
        Case(yaml: "profiles:\n  - {name: x, rtt: 50ms, dwon_kbps: 5}\n", message: "did you mean 'down_kbps'?"),
        Case(yaml: "profiles:\n  - {name: x, rtt: 50ms}\n  - {name: x, rtt: 60ms}\n", message: "profile 'x' is defined twice"),
    ])
    func badProfilesAreErrors(_ c: Case) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID()).yaml").path
        try c.yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var loader = ConfigLoader()
        #expect(loader.loadProfiles(path: path) == nil)
        let text = loader.diagnostics.map(\.description).joined(separator: "\n")
        #expect(text.contains(c.message), "\(text)")
    }
}

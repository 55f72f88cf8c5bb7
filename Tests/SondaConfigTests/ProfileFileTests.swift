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
            #expect(file.lossPercent == table.lossPercent, "\(file.name)")
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
        Case(
            yaml: "profiles:\n  - {name: x, rtt: 50ms, loss: 50%}\n",
            message: "loss of profile 'x' must be from 0% to below 50%, got 50%"),
        Case(
            yaml: "profiles:\n  - {name: x, rtt: 50ms, loss: 1}\n",
            message: "loss of profile 'x' must be a percentage like 1% or 0.5%, got '1'"),
        Case(yaml: "profiles:\n  - {name: x, rtt: 50ms, los: 1%}\n", message: "did you mean 'loss'?"),
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

    @Test(arguments: [
        ("loss: 1%", 1.0), ("loss: 0.5%", 0.5), ("loss: '2 %'", 2.0), ("loss: 0", 0), ("loss: 0%", 0), ("", 0),
    ])
    func lossIsAPercentageOfSegments(_ entry: String, _ percent: Double) throws {
        let keys = entry.isEmpty ? "" : ", \(entry)"
        let path = try Self.write("profiles:\n  - {name: lossy, rtt: 80ms, down_kbps: 12000\(keys)}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var loader = ConfigLoader()
        let loaded = loader.loadProfiles(path: path)
        let profiles = try #require(loaded, "\(loader.diagnostics)")
        #expect(profiles.first?.lossPercent == percent)
    }

    /// Out-of-range and unreadable losses point at the value, line and column, one diagnostic each.
    @Test(arguments: [
        ("-1%", "must be from 0% to below 50%, got -1%"),
        ("50%", "must be from 0% to below 50%, got 50%"),
        ("75.5%", "must be from 0% to below 50%, got 75.5%"),
        ("2", "must be a percentage like 1% or 0.5%, got '2'"),
        ("0.02", "must be a percentage like 1% or 0.5%, got '0.02'"),
        ("lots%", "must be a percentage like 1% or 0.5%, got 'lots%'"),
        ("[1%]", "'loss' must be a percentage like 1% or 0.5%"),
    ])
    func badLossPointsAtTheValue(_ value: String, _ message: String) throws {
        let line = "  - {name: x, rtt: 50ms, loss: \(value), source: test}"
        let path = try Self.write("profiles:\n  - {name: ok, rtt: 10ms}\n\(line)\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var loader = ConfigLoader()
        #expect(loader.loadProfiles(path: path) == nil)
        let diagnostic = try #require(loader.diagnostics.first)
        #expect(loader.diagnostics.count == 1, "\(loader.diagnostics)")
        #expect(diagnostic.message.hasSuffix(message), "\(diagnostic.message)")
        #expect(diagnostic.file == path)
        #expect(diagnostic.line == 3)
        let column = line.distance(from: line.startIndex, to: line.range(of: value)!.lowerBound) + 1
        #expect(diagnostic.column == column)
        #expect(diagnostic.description.hasPrefix("\(path):3:\(column): error: "))
    }

    static func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

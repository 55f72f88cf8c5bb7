import Foundation

/// A `/metrics` exposition as the tests read it.
public enum PrometheusText {
    /// Each sample line's value by series (`name{labels}`), as Prometheus would store it.
    public static func samples(_ exposition: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
        return samples
    }

    /// `promtool check metrics` on `exposition`: nil when it passes, its complaint otherwise.
    public static func lint(_ exposition: String) async throws -> String? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sonda-metrics-\(UUID().uuidString).txt"
        ).path
        try exposition.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lint = try await ChildProcess.run("/bin/sh", ["-c", "promtool check metrics < \(path)"])
        return lint.status == 0 ? nil : lint.stdout + lint.stderr
    }
}

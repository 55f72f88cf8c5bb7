import ArgumentParser
import Foundation
import SondaCLI
import SondaConfig

enum ConfigFileLoading {
    /// The configuration, or every diagnostic on stderr and exit 78.
    static func load(_ path: String) throws -> (AggregatorConfig, String) {
        var loader = AggregatorConfigLoader()
        let config = loader.load(path: path)
        let diagnostics = loader.diagnostics
        if let config, diagnostics.isEmpty {
            return (config, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
        }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let text = diagnostics.map(\.description).joined(separator: "\n")
        FileHandle.standardError.write(Data("\(text)\n\(errors) error\(errors == 1 ? "" : "s")\n".utf8))
        if let config, errors == 0 { return (config, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "") }
        throw CommandFailure.Code.config.exitCode
    }
}

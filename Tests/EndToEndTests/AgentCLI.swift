import Foundation
import TestSupport

/// Runs the built `sonda-agent` binary as a user would and captures what it prints.
enum AgentCLI {
    static let binary: String = {
        let root = TLSLab.packageRoot
        for configuration in ["debug", "release"] {
            let path = root.appendingPathComponent(".build/\(configuration)/sonda-agent").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        fatalError("sonda-agent is not built: run `swift build` (make test does)")
    }()

    static func run(_ arguments: String...) async throws -> ChildProcess.Output { try await run(arguments) }

    static func run(_ arguments: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.run(binary, arguments)
    }
}

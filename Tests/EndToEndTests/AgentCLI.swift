import Foundation
import TestSupport

/// Runs the built `sonda-agent` binary as a user would and captures what it prints.
enum AgentCLI {
    static let binary = TLSLab.builtBinary("sonda-agent")

    static func run(_ arguments: String...) async throws -> ChildProcess.Output { try await run(arguments) }

    static func run(_ arguments: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.run(binary, arguments)
    }
}

import ArgumentParser
import Foundation
import SondaCore

@main
struct SondaAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonda-agent",
        abstract: "Synthetic HTTP and TLS probes with libcurl phase timing.",
        version: SondaVersion.current,
        subcommands: [ProbeCommand.self, RunCommand.self, ValidateCommand.self, ProfilesCommand.self, KeygenCommand.self]
    )

    /// ArgumentParser prints usage blocks for bad input; Sonda prints one line and the exit code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if let usage = error as? UsageError {
                FileHandle.standardError.write(Data("sonda-agent: error: \(usage.message)\n".utf8))
                Foundation.exit(usage.code)
            }
            let code = exitCode(for: error)
            if error is ExitCode || error is CleanExit || code == .success { exit(withError: error) }
            FileHandle.standardError.write(Data("sonda-agent: error: \(message(for: error))\n".utf8))
            Foundation.exit(code == .validationFailure ? 64 : code.rawValue)
        }
    }
}

/// Bad input the user can fix; exits 64 (EX_USAGE) or 78 (EX_CONFIG) with one line on stderr.
struct UsageError: Error {
    var message: String
    var code: Int32 = 64
}

extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = try? DurationParsing.parse(argument) else { return nil }
        self = value
    }
}

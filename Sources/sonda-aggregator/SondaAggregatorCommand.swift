import ArgumentParser
import Foundation
import SondaCore

@main
struct SondaAggregatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonda-aggregator",
        abstract: "Stores signed results from Sonda agents; latency budgets, uptime and the query API.",
        version: SondaVersion.current,
        subcommands: [
            ServeCommand.self, ValidateCommand.self, BudgetsCommand.self, UptimeCommand.self, AgentsCommand.self,
            AuditCommand.self,
        ]
    )

    /// One line on stderr and a distinct exit code, as sonda-agent does.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if let failure = error as? CommandFailure {
                FileHandle.standardError.write(Data("sonda-aggregator: error: \(failure.message)\n".utf8))
                Foundation.exit(failure.code)
            }
            let code = exitCode(for: error)
            if error is ExitCode || error is CleanExit || code == .success { exit(withError: error) }
            FileHandle.standardError.write(Data("sonda-aggregator: error: \(message(for: error))\n".utf8))
            Foundation.exit(code == .validationFailure ? 64 : code.rawValue)
        }
    }
}

/// A failure the user can act on: 64 usage, 69 server unavailable, 78 configuration, 1 otherwise.
struct CommandFailure: Error {
    var message: String
    var code: Int32 = 1
}

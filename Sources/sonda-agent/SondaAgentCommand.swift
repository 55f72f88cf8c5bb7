import ArgumentParser
import Foundation
import SondaAgent
import SondaCLI
import SondaCore
import SondaProbe

@main
struct SondaAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonda-agent",
        abstract: "Synthetic HTTP and TLS probes with libcurl phase timing.",
        version: SondaVersion.current,
        subcommands: [ProbeCommand.self, RunCommand.self, ValidateCommand.self, ProfilesCommand.self, KeygenCommand.self]
    )

    static func main() async {
        OpenSSLAtExit.skip()
        // Async code runs on one thread of the agent's, not on libdispatch's pool (see `TaskThread`).
        TaskThread.installAsGlobalExecutor(name: "sonda-tasks")
        await mainReportingErrors(tool: "sonda-agent")
    }
}


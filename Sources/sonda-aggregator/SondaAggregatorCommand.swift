import ArgumentParser
import Foundation
import SondaCLI
import SondaCore

@main
struct SondaAggregatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonda-aggregator",
        abstract: "Stores signed results from Sonda agents; latency budgets, uptime and the query API.",
        version: SondaVersion.current,
        subcommands: [
            ServeCommand.self, ValidateCommand.self, BudgetsCommand.self, UptimeCommand.self, AgentsCommand.self,
            AuditCommand.self, KeygenCommand.self, AlertsCommand.self, SilenceCommand.self, MigrateCommand.self,
        ]
    )

    static func main() async { await mainReportingErrors(tool: "sonda-aggregator") }
}

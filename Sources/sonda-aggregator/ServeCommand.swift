import ArgumentParser
import Foundation
import SondaAggregator
import SondaCLI
import SondaCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the aggregator: ingest, storage, budgets and the query API.")

    @Option(help: "The aggregator configuration (aggregator.yaml).")
    var config: String

    @Option(help: "Write the port actually bound to this file once listening (for listen: HOST:0).")
    var portFile: String?

    func run() async throws {
        let (configuration, text) = try ConfigFileLoading.load(config)
        let portFile = portFile
        let scheme = configuration.tls == nil ? "http" : "https"
        do {
            try await AggregatorServer.run(config: configuration, configText: text) { port in
                FileHandle.standardError.write(
                    Data("sonda-aggregator: listening on \(scheme)://\(configuration.host):\(port)\n".utf8))
                if let portFile {
                    try? "\(port)".write(toFile: portFile + ".tmp", atomically: false, encoding: .utf8)
                    rename(portFile + ".tmp", portFile)
                }
            }
        } catch let error as AggregatorStartError {
            throw CommandFailure(message: error.message, code: .config)
        }
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check an aggregator file; print every problem with file:line:col (exit 78)."
    )

    @Argument(help: "aggregator.yaml")
    var file: String

    func run() throws {
        let (config, _) = try ConfigFileLoading.load(file)
        print(
            "\(file): \(config.agents.count) agents, \(config.budgets.count) budget rules, listen "
                + "\(config.host):\(config.port), database \(config.databaseShown), read endpoints "
                + (config.readTokens.isEmpty ? "public" : "need a token")
                + (config.adminTokens.isEmpty
                    ? ", silences changed from loopback only" : ", silences need an admin token")
                + (config.tls == nil ? ", plain HTTP" : ", HTTPS")
                + ", alerts every \(DurationParsing.format(config.alerting.evaluateEvery)) to "
                + "\(config.alerting.receivers.count) receivers"
                + (config.audit.map {
                    ", audit checkpoints every \(DurationParsing.format($0.checkpointEvery)) to \($0.destination)"
                } ?? ""))
    }
}

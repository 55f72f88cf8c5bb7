import ArgumentParser
import SondaCLI
import Foundation
import SondaAgent

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a new Ed25519 agent key (mode 0600) and print the line to register it with the aggregator."
    )

    @Option(help: "Where to write the private key; an existing file is never overwritten.")
    var out: String

    @Option(help: "Agent id for the printed aggregator line.")
    var id: String = "AGENT-ID"

    func run() throws {
        do {
            let key = try AgentKey.generate(to: out)
            print("wrote \(out) (keep it secret; mode 0600)")
            print("add to the aggregator's agents:")
            print("  - {id: \(id), public_key: \"\(AgentKey.publicKeyText(key))\"}")
        } catch let problem as AgentKey.Problem {
            throw CommandFailure(message: problem.description, code: .cannotCreate)
        }
    }
}

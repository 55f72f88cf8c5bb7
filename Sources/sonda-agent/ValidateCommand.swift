import ArgumentParser
import Foundation
import SondaConfig
import SondaCLI
import SondaCore

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check agent, check and budget files; print every problem with file:line:col (exit 78) or a summary."
    )

    @Argument(help: "Agent files (agent:), check files (checks:) or budget files (budgets:).")
    var files: [String]

    func run() throws {
        var loader = ConfigLoader()
        var summaries: [String] = []
        for path in files {
            let kind = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap(ConfigLoader.kind(ofText:))
            switch kind {
            case .agent:
                if let agent = loader.loadAgent(path: path) { summaries.append(Self.summary(agent)) }
            case .budgets:
                if let rules = loader.loadBudgets(path: path) { summaries.append("\(path): \(rules.count) budget rules") }
            case .checks, nil:
                if let checks = loader.loadChecks(path: path) { summaries.append("\(path): \(checks.count) checks") }
            }
        }
        let diagnostics = loader.diagnostics
        if !diagnostics.isEmpty {
            let errors = diagnostics.filter { $0.severity == .error }.count
            let text = diagnostics.map(\.description).joined(separator: "\n")
            FileHandle.standardError.write(Data("\(text)\n\(errors) error\(errors == 1 ? "" : "s")\n".utf8))
            throw CommandFailure.Code.config.exitCode
        }
        print(summaries.joined(separator: "\n"))
    }

    static func summary(_ agent: AgentConfig) -> String {
        let perMinute = (agent.probesPerMinute * 10).rounded() / 10
        return "\(agent.file): agent \(agent.id) (\(agent.region)): \(agent.checks.count) checks × "
            + "\(agent.profiles.count) profiles (\(agent.profiles.map(\.name).joined(separator: ", "))), "
            + "\(perMinute) probes per minute"
    }
}

import Foundation
import SondaConfig
import SondaCore

/// `probe --check NAME --config FILE`: finds the check and the budget that applies to it.
enum ConfiguredCheck {
    static func load(_ name: String, from path: String) throws -> (CheckSpec, SecretRedactor, LatencyBudget?) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw UsageError(message: "cannot read config file '\(path)'", code: 78)
        }
        var loader = ConfigLoader()
        var checks: [CheckSpec] = []
        var rules: [BudgetRule] = []
        var region: String?
        if ConfigLoader.kind(ofText: text) == .agent {
            if let agent = loader.loadAgent(path: path) {
                checks = agent.checks
                rules = agent.budgets
                region = agent.region
            }
        } else {
            checks = loader.loadChecks(path: path) ?? []
        }
        if !loader.diagnostics.isEmpty {
            let text = loader.diagnostics.map(\.description).joined(separator: "\n")
            FileHandle.standardError.write(Data((text + "\n").utf8))
            throw UsageError(message: "\(path) has errors; see above (sonda-agent validate \(path))", code: 78)
        }
        guard let check = checks.first(where: { $0.name == name }) else {
            let names = checks.map(\.name)
            let hint = names.isEmpty ? "" : "; checks are \(names.joined(separator: ", "))"
            throw UsageError(message: "no check named '\(name)' in \(path)\(hint)", code: 78)
        }
        let budget = check.budgets.first { $0.phase == .total } ?? check.budgets.first
            ?? BudgetRule.applicable(rules, check: check.name, endpointClass: check.endpointClass, region: region, profile: nil)
            .first { $0.phase == .total }.map { LatencyBudget(limit: $0.limit, phase: $0.phase) }
        return (check, loader.redactor, budget)
    }
}

import SondaCLI
import Foundation
import SondaConfig
import SondaCore

/// `probe --check NAME --config FILE`: finds the check and the budget that applies to it.
enum ConfiguredCheck {
    /// The check, the redactor, its budget, and the budget under a named profile (a budgets.yaml
    /// rule with `profile:`; nil where none is more specific than the check's own).
    static func load(_ name: String, from path: String) throws
        -> (CheckSpec, SecretRedactor, LatencyBudget?, @Sendable (String) -> LatencyBudget?)
    {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure(message: "cannot read config file '\(path)'", code: .config)
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
            let text = loader.diagnosticsText
            FileHandle.standardError.write(Data((text + "\n").utf8))
            throw CommandFailure(message: "\(path) has errors; see above (sonda-agent validate \(path))", code: .config)
        }
        guard let check = checks.first(where: { $0.name == name }) else {
            let names = checks.map(\.name)
            let hint = names.isEmpty ? "" : "; checks are \(names.joined(separator: ", "))"
            throw CommandFailure(message: "no check named '\(name)' in \(path)\(hint)", code: .config)
        }
        let own = check.budgets.first { $0.phase == .total } ?? check.budgets.first
        let (allRules, agentRegion) = (rules, region)
        let configured = { @Sendable (profile: String?) -> LatencyBudget? in
            BudgetRule.applicable(
                allRules, check: check.name, endpointClass: check.endpointClass, region: agentRegion, profile: profile
            ).first { $0.phase == .total }.map { LatencyBudget(limit: $0.limit, phase: $0.phase) }
        }
        let budget = own ?? configured(nil)
        let forProfile = { @Sendable (profile: String) -> LatencyBudget? in
            guard own == nil, let rule = configured(profile), rule != budget else { return nil }
            return rule
        }
        return (check, loader.redactor, budget, forProfile)
    }
}

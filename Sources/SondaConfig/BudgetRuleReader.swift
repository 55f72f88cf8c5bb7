import SondaCore
import Yams

/// One rule of budgets.yaml: `{class: appointment_booking, profile: mobile_3g_brazil, phase: total, quantile: p95, limit: 3.5s}`.
enum BudgetRuleReader {
    static let keys = ["check", "class", "region", "profile", "phase", "quantile", "limit"]

    static func rule(_ node: Node, in file: ConfigFile) -> BudgetRule? {
        guard let r = MappingReader(node, in: file, context: "a budget rule", allowed: keys) else { return nil }
        let selectors = ["check", "class", "region", "profile"].filter(r.has)
        if selectors.isEmpty {
            file.error("a budget rule needs at least one of check, class, region, profile", at: node)
        }
        if let (text, classNode) = r.scalar("class"), !CheckLoader.classes.contains(text), !text.hasPrefix("custom") {
            file.error("unknown class '\(text)'\(Suggestion.didYouMean(text, in: CheckLoader.classes))", at: classNode)
        }
        if let (text, profileNode) = r.scalar("profile"), NetworkProfile.named(text) == nil {
            file.error("unknown profile '\(text)'\(Suggestion.didYouMean(text, in: NetworkProfile.builtIn.map(\.name)))", at: profileNode)
        }
        var phase = PhaseTimings.Phase.total
        if let (text, phaseNode) = r.scalar("phase") {
            if let known = PhaseTimings.Phase(rawValue: text) {
                phase = known
            } else {
                file.error("unknown phase '\(text)'\(Suggestion.didYouMean(text, in: PhaseTimings.Phase.allCases.map(\.rawValue)))", at: phaseNode)
            }
        }
        var quantile = BudgetRule.Quantile.p95
        if let (text, quantileNode) = r.scalar("quantile") {
            if let known = BudgetRule.Quantile(rawValue: text) {
                quantile = known
            } else {
                file.error("quantile must be p50, p95 or p99, got '\(text)'", at: quantileNode)
            }
        }
        guard let limit = r.duration("limit", required: true) else { return nil }
        return BudgetRule(
            check: r.string("check"), endpointClass: r.string("class"), region: r.string("region"),
            profile: r.string("profile"), phase: phase, quantile: quantile, limit: limit)
    }
}

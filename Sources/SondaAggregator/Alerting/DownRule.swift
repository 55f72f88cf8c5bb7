import Foundation
import SondaConfig
import SondaCore

/// `down` and `degraded`: per check, an agent is failing when its last `down.for` results failed in
/// every profile it runs (a 3G-only timeout is a budget problem, not an outage). Failing agents at
/// quorum (or every reporting agent, when fewer than the quorum report) fire SondaDown, critical;
/// one failing agent below quorum is SondaDegraded, low. Silent agents and stale series (see
/// `FleetObservations.isFresh`) are out of the count entirely.
///
/// Hysteresis: once SondaDown (or SondaDegraded) fires, an agent keeps counting until it has passed
/// `down.for` results in a row, so a check that flaps (fail, fail, pass, …) stays one alert
/// instead of a page per flap.
enum DownRule {
    struct AgentView {
        var region: String
        var failures: Int
        var passes: Int
        var errors: Set<String>
    }

    static func conditions(_ c: RuleContext) -> [AlertCondition] {
        var conditions: [AlertCondition] = []
        let need = c.config.downFor
        let (firingDown, firingDegraded) = (c.firingDown, c.firingDegraded)
        for (check, keys) in c.observations.seriesByCheck {
            var agents: [String: AgentView] = [:]
            for key in keys {
                guard let s = c.observations.series[key], !c.isSilent(key.agent),
                    c.observations.isFresh(s, now: c.now, silentWindow: c.silentWindow)
                else { continue }
                var view = agents[key.agent] ?? AgentView(region: s.region, failures: .max, passes: .max, errors: [])
                // Every profile must be failing: the agent's streak is its best profile's.
                view.failures = min(view.failures, s.failures)
                view.passes = min(view.passes, s.passes)
                if let error = s.lastError { view.errors.insert(error) }
                agents[key.agent] = view
            }
            guard !agents.isEmpty else {
                // Every agent that saw the check is silent or has gone stale: silence is no evidence
                // that the check recovered. A firing SondaDown holds until a result says so, so a
                // partition that cuts the agents off neither resolves it nor, once it heals, pages
                // the same outage again.
                if firingDown.contains(check),
                    let held = c.firing.first(where: {
                        $0.labels["alertname"] == "SondaDown" && $0.labels["check"] == check
                    })
                {
                    conditions.append(
                        AlertCondition(labels: held.labels, summary: held.summary, description: held.description))
                }
                continue
            }
            let quorum = min(c.config.downQuorum, agents.count)
            let endpointClass = c.endpointClass(of: check)
            let down = RuleContext.labels("SondaDown", .critical, ["check": check, "class": endpointClass])
            let downFiring = firingDown.contains(check)
            let failing = agents.filter { downFiring ? $0.value.passes < need : $0.value.failures >= need }
            let suspect = agents.filter { $0.value.failures >= 1 }
            if failing.count >= quorum || suspect.count >= quorum {
                let counted = failing.count >= quorum ? failing : suspect
                var labels = down
                labels["regions"] = Set(counted.values.map(\.region)).sorted().joined(separator: ",")
                let errors = Set(counted.values.flatMap(\.errors)).sorted().joined(separator: ", ")
                conditions.append(
                    AlertCondition(
                        labels: labels,
                        summary:
                            "\(check) is down from \(counted.count) of \(agents.count) agents (\(labels["regions"]!))"
                            + (errors.isEmpty ? "" : ": \(errors)"),
                        description: counted.keys.sorted().map { "\($0) (\(counted[$0]!.region))" }
                            .joined(separator: ", "),
                        ready: failing.count >= quorum))
                continue
            }
            for (agent, view) in agents {
                let labels = RuleContext.labels(
                    "SondaDegraded", .low,
                    ["check": check, "class": endpointClass, "agent": agent, "region": view.region])
                let firing = firingDegraded.contains(.init(check: check, agent: agent))
                guard firing ? view.passes < need : view.failures >= need else { continue }
                conditions.append(
                    AlertCondition(
                        labels: labels,
                        summary: "\(check) fails from \(agent) (\(view.region)) only"
                            + (view.errors.isEmpty ? "" : ": \(view.errors.sorted().joined(separator: ", "))"),
                        description:
                            "Below the down quorum of \(c.config.downQuorum): a local problem of this site, not an outage."
                    ))
            }
        }
        return conditions
    }
}

/// `agent_silent`: no batch or heartbeat for `agent_silent.after` heartbeat intervals → medium.
enum AgentSilentRule {
    static func conditions(_ c: RuleContext) -> [AlertCondition] {
        c.observations.agents.compactMap { id, agent -> AlertCondition? in
            guard c.isSilent(id) else { return nil }
            return AlertCondition(
                labels: RuleContext.labels("SondaAgentSilent", .medium, ["agent": id, "region": agent.region]),
                summary: "agent \(id) (\(agent.region)) silent for \(spoken(c.now.timeIntervalSince(agent.lastSeen)))",
                description:
                    "No batch or heartbeat since \(Timestamp.format(agent.lastSeen)); its checks are left out of the down quorum."
            )
        }
    }
}

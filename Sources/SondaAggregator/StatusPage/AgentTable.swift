/// The agents section: every configured agent with its last heartbeat; silent ones (no batch or
/// heartbeat for `silentAfterSeconds`) and ones that never reported are highlighted, as are results
/// an agent lost: dropped from a full spool, or quarantined because an aggregator refused them for
/// good. A large fleet is summarised per region, listing only the agents that need a look.
struct AgentTable {
    var agents: [AgentStatus]
    var silentAfterSeconds: Double
    /// Up to this many agents are listed one by one.
    var listLimit = 40

    func isSilent(_ agent: AgentStatus) -> Bool {
        (agent.secondsSinceSeen ?? .infinity) > silentAfterSeconds
    }

    func needsALook(_ agent: AgentStatus) -> Bool {
        isSilent(agent) || (agent.dropped ?? 0) > 0 || (agent.quarantined ?? 0) > 0
    }

    var reporting: Int { agents.filter { !isSilent($0) }.count }

    func render() -> HTML {
        var html: HTML = """
            <section id="agents"><h2>Agents <small>\(reporting) of \(agents.count) reporting · silent after \
            \(StatusFormat.duration(seconds: silentAfterSeconds)) without a heartbeat</small></h2>
            """
        guard !agents.isEmpty else { return html + "<p class=\"empty\">No agents configured.</p></section>" }
        let sorted = agents.sorted {
            (isSilent($0) ? 0 : 1, $0.region, $0.id) < (isSilent($1) ? 0 : 1, $1.region, $1.id)
        }
        if agents.count <= listLimit {
            return html + table(sorted) + "</section>"
        }
        let flagged = sorted.filter(needsALook)
        html += regionSummary()
        if flagged.isEmpty {
            html += "<p class=\"empty\">✓ Every agent is reporting and none lost results.</p>"
        } else {
            html +=
                "<p class=\"note\">Agents that are silent or lost results\(flagged.count > 100 ? " (first 100 of \(flagged.count))" : ""):</p>"
            html += table(Array(flagged.prefix(100)))
        }
        return html
            + "<p class=\"note\">Every agent: <code>GET /v1/agents</code> or <code>sonda-aggregator agents</code>.</p></section>"
    }

    func regionSummary() -> HTML {
        let byRegion = Dictionary(grouping: agents, by: \.region)
        let rows: [HTML] = byRegion.keys.sorted().map { region in
            let members = byRegion[region]!
            let silent = members.filter(isSilent).count
            let versions = Set(members.compactMap(\.version)).sorted().joined(separator: ", ")
            let state: BudgetState = silent == 0 ? .ok : (silent == members.count ? .violated : .degraded)
            return """
                <tr data-region="\(region)"><td>\(region)</td><td>\(StateBadge.badge(state, "\(members.count - silent) / \(members.count)"))</td>\
                <td class="num">\(silent)</td><td class="num">\(members.compactMap(\.spoolDepth).max() ?? 0)</td>\
                <td class="num">\(members.compactMap(\.dropped).reduce(0, +))</td>\
                <td class="num">\(members.compactMap(\.quarantined).reduce(0, +))</td><td>\(versions.isEmpty ? "–" : versions)</td></tr>
                """
        }
        return """
            <div class="scroll"><table><thead><tr><th>region</th><th>reporting</th><th class="num">silent</th>\
            <th class="num">max spool</th><th class="num">dropped</th><th class="num">quarantined</th><th>versions</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
    }

    func table(_ agents: [AgentStatus]) -> HTML {
        let rows: [HTML] = agents.map { agent in
            let silent = isSilent(agent)
            let seen: HTML =
                if let seconds = agent.secondsSinceSeen {
                    silent
                        ? "<span class=\"badge s-violated\">✕ silent</span> \(StatusFormat.ago(seconds: seconds))"
                        : "<span class=\"badge s-ok\">✓</span> \(StatusFormat.ago(seconds: seconds))"
                } else {
                    "<span class=\"badge s-violated\">✕ never reported</span>"
                }
            let dropped = lost(agent.dropped)
            let quarantined = lost(agent.quarantined)
            return """
                <tr\(silent ? HTML(trusted: " class=\"silent\"") : "") data-agent="\(agent.id)"><td>\(agent.id)</td>\
                <td>\(agent.region)</td><td>\(agent.site ?? "–")</td>\
                <td title="\(agent.lastSeen ?? "never")">\(seen)</td><td>\(agent.version ?? "–")</td>\
                <td class="num">\(agent.spoolDepth.map(String.init) ?? "–")</td><td class="num">\(dropped)</td>\
                <td class="num">\(quarantined)</td><td class="num">\(StatusFormat.count(agent.results))</td></tr>
                """
        }
        return """
            <div class="scroll"><table><thead><tr><th>agent</th><th>region</th><th>site</th><th>last seen</th>\
            <th>version</th><th class="num">spool</th><th class="num">dropped</th>\
            <th class="num">quarantined</th><th class="num">results</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
    }

    /// A count of lost results: highlighted when there are any.
    func lost(_ count: Int?) -> HTML {
        guard let count, count > 0 else { return "\(count.map(String.init) ?? "–")" }
        return "<span class=\"badge s-degraded\">▲ \(count)</span>"
    }
}

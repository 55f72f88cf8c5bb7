/// The agents table: every configured agent with its last heartbeat; silent ones (no batch or
/// heartbeat for `silentAfterSeconds`) and ones that never reported are highlighted.
struct AgentTable {
    var agents: [AgentStatus]
    var silentAfterSeconds: Double

    func isSilent(_ agent: AgentStatus) -> Bool {
        (agent.secondsSinceSeen ?? .infinity) > silentAfterSeconds
    }

    var reporting: Int { agents.filter { !isSilent($0) }.count }

    func render() -> HTML {
        var html: HTML = """
            <section id="agents"><h2>Agents <small>\(reporting) of \(agents.count) reporting · silent after \
            \(StatusFormat.duration(seconds: silentAfterSeconds)) without a heartbeat</small></h2>
            """
        guard !agents.isEmpty else { return html + "<p class=\"empty\">No agents configured.</p></section>" }
        let sorted = agents.sorted { (isSilent($0) ? 0 : 1, $0.region, $0.id) < (isSilent($1) ? 0 : 1, $1.region, $1.id) }
        let rows: [HTML] = sorted.map { agent in
            let silent = isSilent(agent)
            let seen: HTML =
                if let seconds = agent.secondsSinceSeen {
                    silent
                        ? "<span class=\"badge s-violated\">✕ silent</span> \(StatusFormat.ago(seconds: seconds))"
                        : "<span class=\"badge s-ok\">✓</span> \(StatusFormat.ago(seconds: seconds))"
                } else {
                    "<span class=\"badge s-violated\">✕ never reported</span>"
                }
            let dropped: HTML =
                (agent.dropped ?? 0) > 0
                ? "<span class=\"badge s-degraded\">▲ \(agent.dropped ?? 0)</span>" : "\(agent.dropped.map(String.init) ?? "–")"
            return """
                <tr\(silent ? HTML(trusted: " class=\"silent\"") : "") data-agent="\(agent.id)"><td>\(agent.id)</td>\
                <td>\(agent.region)</td><td>\(agent.site ?? "–")</td>\
                <td title="\(agent.lastSeen ?? "never")">\(seen)</td><td>\(agent.version ?? "–")</td>\
                <td class="num">\(agent.spoolDepth.map(String.init) ?? "–")</td><td class="num">\(dropped)</td>\
                <td class="num">\(StatusFormat.count(agent.results))</td></tr>
                """
        }
        html += """
            <div class="scroll"><table><thead><tr><th>agent</th><th>region</th><th>site</th><th>last seen</th>\
            <th>version</th><th class="num">spool</th><th class="num">dropped</th><th class="num">results</th></tr></thead>
            <tbody>\(rows)</tbody></table></div></section>
            """
        return html
    }
}

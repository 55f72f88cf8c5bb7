/// The budget heatmap: one row per region × profile, one column per endpoint class, each cell
/// coloured by its state and showing the judged quantile against the limit.
struct BudgetHeatmap {
    var report: BudgetReport
    /// Regions to show even without data (the configured agents' regions).
    var regions: [String]
    var links: StatusLinks

    static let windows = ["15m", "1h", "24h", "7d"]
    /// The seeds' classes in the order people read them; others follow alphabetically.
    static let classOrder = [
        "authentication", "patient_data", "appointment_booking", "treatment_planning", "reporting",
    ]

    struct Key: Hashable {
        var region: String, profile: String, endpointClass: String
    }

    static func severity(_ state: BudgetState) -> Int {
        switch state {
        case .violated: 4
        case .degraded: 3
        case .ok: 2
        case .noBudget: 1
        case .noData: 0
        }
    }

    static func ordered(classes: Set<String>) -> [String] {
        classOrder.filter(classes.contains) + classes.subtracting(classOrder).sorted()
    }

    var grouped: [Key: [BudgetReport.Cell]] {
        Dictionary(grouping: report.cells) {
            Key(region: $0.region, profile: $0.profile, endpointClass: $0.endpointClass)
        }
    }

    /// The state a cell shows: the worst of its budgets.
    static func state(of cells: [BudgetReport.Cell]) -> BudgetState {
        cells.map(\.state).max { severity($0) < severity($1) } ?? .noData
    }

    func render() -> HTML {
        let groups = grouped
        let regions = Set(regions + report.cells.map(\.region)).sorted()
        let profiles = Set(report.cells.map(\.profile)).sorted()
        let classes = Self.ordered(classes: Set(report.cells.map(\.endpointClass)))
        let pills: [HTML] = Self.windows.map { w in
            w == report.window ? "<b>\(w)</b>" : "<a href=\"\(links.fleet(window: w))\">\(w)</a>"
        }
        var html: HTML = """
            <section id="budgets"><h2>Latency budgets <small>region × profile × class, successful probes, \
            window \(report.window)</small><span class="pills">\(pills)</span></h2>
            """
        guard !profiles.isEmpty else {
            return html + "<p class=\"empty\">No results in the last \(report.window).</p></section>"
        }
        var rows: [HTML] = []
        var tally: [BudgetState: Int] = [:]
        for region in regions {
            rows.append("<tr class=\"region\"><th colspan=\"\(classes.count + 1)\">\(region)</th></tr>")
            for profile in profiles {
                var row: HTML = "<tr><th>\(Self.breakable(profile))</th>"
                for endpointClass in classes {
                    let cells = groups[Key(region: region, profile: profile, endpointClass: endpointClass)] ?? []
                    let state = Self.state(of: cells)
                    tally[state, default: 0] += 1
                    row += cell(cells, state: state, region: region, profile: profile, endpointClass: endpointClass)
                }
                rows.append(row + "</tr>")
            }
        }
        let headers: [HTML] = classes.map { "<th>\($0)</th>" }
        let legend: [HTML] = [BudgetState.ok, .degraded, .violated, .noData, .noBudget].compactMap { state in
            guard let n = tally[state] else { return nil }
            return StateBadge.badge(state, "\(StateBadge.label(state)) \(n)")
        }
        html += """
            <div class="scroll"><table class="heat"><thead><tr><th>region · profile</th>\(headers)</tr></thead>
            <tbody>\(rows)</tbody></table></div>
            <div class="legend">\(legend)</div>
            <p class="note">Degraded: within 10 % of the limit. Hover a cell for p50 / p99 and the sample count.</p>
            </section>
            """
        return html
    }

    /// A name that may wrap after its underscores on a narrow screen.
    static func breakable(_ name: String) -> HTML {
        name.split(separator: "_", omittingEmptySubsequences: false).enumerated().map { i, part -> HTML in
            i == 0 ? "\(part)" : "_<wbr>\(part)"
        }.joined()
    }

    func cell(_ cells: [BudgetReport.Cell], state: BudgetState, region: String, profile: String, endpointClass: String)
        -> HTML
    {
        let label = "\(region) · \(profile) · \(endpointClass)"
        guard !cells.isEmpty else {
            return
                "<td class=\"cell s-no-data\" data-cell=\"\(label)\" data-state=\"no-data\" title=\"\(label): no results\">"
                + "– <small>no data</small></td>"
        }
        let shown = cells.max { Self.severity($0.state) < Self.severity($1.state) }!
        let lines = cells.map { c -> String in
            var line =
                "\(c.phase): p50 \(StatusFormat.milliseconds(c.p50)) · p95 \(StatusFormat.milliseconds(c.p95))"
                + " · p99 \(StatusFormat.milliseconds(c.p99)) · \(c.count) samples"
            if let limit = c.limit { line += " · budget \(c.quantile) ≤ \(StatusFormat.milliseconds(limit))" }
            return line + " · \(StateBadge.label(c.state))"
        }
        let title = ([label] + lines).joined(separator: "\n")
        let value: Double? =
            switch shown.quantile {
            case "p50": shown.p50
            case "p99": shown.p99
            default: shown.p95
            }
        let phase = shown.phase == "total" ? "" : " \(shown.phase)"
        let limit: HTML =
            shown.limit.map { "≤ \(StatusFormat.milliseconds($0))\(phase)" } ?? "no budget"
        return """
            <td class="cell s-\(state.rawValue)" data-cell="\(label)" data-state="\(state.rawValue)" title="\(title)">\
            \(StateBadge.icon(state)) <b>\(StatusFormat.milliseconds(value))</b> <small>\(shown.quantile) · \(limit)</small>\
            <small>\(StateBadge.label(state)) · n=\(StatusFormat.count(shown.count))</small></td>
            """
    }
}

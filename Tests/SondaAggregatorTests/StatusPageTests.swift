import Foundation
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import Testing

@Suite struct StatusPageTests {
    /// The `<td class="cell …">` of the heatmap by their "region · profile · class" label: state and shown value.
    static func heatmapCells(_ html: String) -> [String: (state: String, value: String)] {
        var cells: [String: (String, String)] = [:]
        let pattern = /<td class="cell s-[a-z-]+" data-cell="([^"]+)" data-state="([a-z-]+)"[^>]*>(.*?)<\/td>/
        for match in html.matches(of: pattern) {
            let value = match.output.3.firstMatch(of: /<b>([^<]*)<\/b>/)?.output.1 ?? "–"
            cells[String(match.output.1)] = (String(match.output.2), String(value))
        }
        return cells
    }

    /// The page's way of writing milliseconds.
    static func milliseconds(_ value: Double) -> String {
        if value >= 1000 { return String(format: "%.2f s", value / 1000) }
        if value >= 100 { return String(format: "%.0f ms", value) }
        if value >= 10 { return String(format: "%.1f ms", value) }
        return String(format: "%.2f ms", value)
    }

    @Test func theFleetPageShowsEveryBudgetCellUptimeBarsAgentsAndCertificates() async throws {
        let f = try StatusPageFixture.fixture()
        try await f.application().test(.router) { client in
            try await StatusPageFixture.load(f, into: client)
            let page = try await client.execute(uri: "/?window=24h", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)

            // Every region × profile × class cell, with the JSON API's state and p95.
            let json = try await client.execute(uri: "/v1/budgets?window=24h", method: .get)
            let report = try JSONDecoder().decode(BudgetReport.self, from: Data(buffer: json.body))
            let cells = Self.heatmapCells(html)
            let regions = ["sao_paulo", "rio_de_janeiro", "porto_alegre"]
            let classes = Set(StatusPageFixture.checks.map(\.endpointClass))
            #expect(cells.count == regions.count * StatusPageFixture.profiles.count * classes.count)
            #expect(report.cells.count == 2 * 3 * classes.count)
            for cell in report.cells {
                let shown = try #require(cells["\(cell.region) · \(cell.profile) · \(cell.endpointClass)"])
                #expect(shown.state == cell.state.rawValue, "\(cell)")
                #expect(shown.value == Self.milliseconds(try #require(cell.p95)), "\(cell)")
            }
            #expect(
                Set(report.cells.map(\.state)).isSuperset(of: [.ok, .violated]), "the fixture covers several states")
            for profile in StatusPageFixture.profiles {
                #expect(cells["porto_alegre · \(profile.name) · authentication"]?.state == "no-data")
            }
            #expect(html.contains(#"<b>24h</b>"#) && html.contains(#"<a href="/?window=7d">7d</a>"#))

            // Uptime: a card per check with 24 hourly and 30 daily segments.
            for check in StatusPageFixture.checks {
                let card = try #require(html.firstRange(of: #"data-check="\#(check.name)""#), "\(check.name)")
                let after = html[card.upperBound...]
                let rest = after[..<(after.firstRange(of: "</div></div>")?.upperBound ?? after.endIndex)]
                let hours = try #require(rest.firstMatch(of: /<svg class="bar-hours"(.*?)<\/svg>/)).output.1
                let days = try #require(rest.firstMatch(of: /<svg class="bar-days"(.*?)<\/svg>/)).output.1
                #expect(hours.matches(of: /<rect class="seg-/).count == 24)
                #expect(days.matches(of: /<rect class="seg-/).count == 30)
                if check.name == "legacy-portal" {
                    // The current hour has no probe yet in the first seconds of an hour.
                    #expect(hours.matches(of: /seg-violated/).count >= 23, "failing all day")
                    #expect(rest.contains("error budget exhausted"))
                }
                if check.name == "api-health" {
                    #expect(hours.matches(of: /seg-ok/).count >= 23)
                    #expect(hours.matches(of: /seg-(violated|degraded)/).isEmpty)
                    #expect(days.matches(of: /seg-ok/).count == 30)
                }
            }
            #expect(html.contains(#"<a href="/checks/booking-slots">booking-slots</a>"#))

            // Agents: last seen, version, spool depth; the one that never reported stands out.
            let reporting = try #require(html.firstMatch(of: /<tr data-agent="sp-clinic-01">(.*?)<\/tr>/)).output.1
            #expect(
                reporting.contains("0 s ago") && reporting.contains("<td>0.1.0</td>")
                    && reporting.contains(#"<td class="num">3</td>"#))
            let silent = try #require(html.firstMatch(of: /<tr class="silent" data-agent="poa-clinic-01">(.*?)<\/tr>/))
                .output.1
            #expect(silent.contains("never reported"))
            #expect(html.contains("2 / 3</b><span>agents reporting"))

            // Certificates: earliest first, coloured at 21 and 7 days.
            let certificates = html.matches(
                of:
                    /<tr data-cert="([^"]+)"><td>[^<]*<\/td><td>([^<]*)<\/td>.*?badge s-([a-z-]+)">[^ ]+ (-?\d+) d · ([a-z]+)</
            )
            let rows = certificates.map {
                "\($0.output.1) \($0.output.2) \($0.output.4)d \($0.output.5) \($0.output.3)"
            }
            #expect(rows.first == "legacy-portal legado.clinica.example 5d critical violated", "\(rows)")
            #expect(rows.contains("booking-slots agenda.clinica.example 15d warning degraded"), "\(rows)")
            #expect(rows.contains("daily-report reports.clinica.example 90d ok ok"), "\(rows)")
            #expect(rows.count == StatusPageFixture.checks.count)
        }
    }

    @Test func theCheckPageChartsEveryPhaseAndListsFailures() async throws {
        let f = try StatusPageFixture.fixture()
        try await f.application().test(.router) { client in
            try await StatusPageFixture.load(f, into: client)
            let page = try await client.execute(uri: "/checks/booking-slots", method: .get)
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            for phase in ["total", "dns", "connect", "tls", "wait", "receive"] {
                let chart = try #require(
                    html.firstMatch(of: Regex(#"<div class="chart" data-phase="\#(phase)">(.*?)</div>"#)))
                let svg = String(chart.output[1].substring ?? "")
                #expect(
                    svg.contains(#"<path class="p50" d="M"#) && svg.contains(#"<path class="p95" d="M"#), "\(phase)")
                // One point per hour of the last day.
                #expect(svg.matches(of: /<title>\d\d:00 · p50/).count == 24)
            }
            #expect(!html.contains(#"data-phase="proxy""#), "a check that goes direct has no proxy chart")
            #expect(html.contains(#"<line class="limit""#) == false, "desktop and 3G budgets differ: no single line")
            for region in ["sao_paulo", "rio_de_janeiro"] {
                for profile in StatusPageFixture.profiles {
                    #expect(html.contains(#"<tr data-row="\#(region) · \#(profile.name)">"#))
                }
            }
            #expect(html.matches(of: /<tr class="failure">/).count == 2, "the 503 from each agent")
            #expect(html.contains("✕ http_status</span></td><td class=\"wrap\">HTTP 503, expected one of 200"))

            // Through a proxy: the tunnel's own chart, between connect and tls, with the agents' values.
            let proxied = String(
                buffer: try await client.execute(uri: "/checks/treatment-plan", method: .get).body)
            let order = proxied.matches(of: /<div class="chart" data-phase="([a-z]+)">/).map { String($0.output.1) }
            #expect(order == ["total", "dns", "connect", "proxy", "tls", "wait", "receive"])
            // The tunnel costs a round trip (8 to 168 ms by profile and region, × 0.85–1.25); the
            // connect to the proxy a millisecond.
            let tunnel = try Self.hourlyMedians(of: "proxy", in: proxied)
            #expect(tunnel.count == 24)
            #expect(tunnel.allSatisfy { (6.0...220).contains($0) }, "\(tunnel)")
            let connect = try Self.hourlyMedians(of: "connect", in: proxied)
            #expect(connect.count == 24 && connect.allSatisfy { $0 < 1.5 }, "\(connect)")

            let oneProfile = String(
                buffer: try await client.execute(
                    uri: "/checks/booking-slots?window=1h&profile=desktop_brazil", method: .get
                ).body)
            #expect(oneProfile.contains(#"<b>desktop_brazil</b>"#) && oneProfile.contains(#"<b>1h</b>"#))
            #expect(oneProfile.contains(#"<line class="limit""#), "one profile, one budget line")
            #expect(!oneProfile.contains("mobile_3g_brazil</td>"))

            let missing = try await client.execute(uri: "/checks/no-such-check", method: .get)
            #expect(missing.status == .notFound)
            #expect(
                String(buffer: missing.body).contains(
                    "No results for a check named 'no-such-check' in the last 30 days."))
            #expect(
                try await client.execute(uri: "/checks/booking-slots?window=7d", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/?window=soon", method: .get).status == .badRequest)
        }
    }

    /// The p50 of each hour in a phase's chart, in milliseconds, from the hover titles.
    static func hourlyMedians(of phase: String, in html: String) throws -> [Double] {
        let chart = try #require(
            html.firstMatch(of: Regex(#"<div class="chart" data-phase="\#(phase)">(.*?)</div>"#)), "\(phase)")
        let svg = String(chart.output[1].substring ?? "")
        return svg.matches(of: /<title>\d\d:00 · p50 ([0-9.]+) (ms|s) ·/).map { match in
            (Double(match.output.1) ?? .nan) * (match.output.2 == "s" ? 1000 : 1)
        }
    }

    @Test func textFromAgentsIsEscaped() async throws {
        let f = try IngestFixture()
        let evil = #"<script>alert("x")</script>"#
        let check = #"x"><img src=y onerror=alert(1)>"#
        let results = (0..<3).map { i in
            IngestFixture.result(
                check: check, endpointClass: "<b>class</b>", totalMilliseconds: 50, error: ProbeError(.assertion, evil),
                at: f.now.addingTimeInterval(-Double(i * 10)))
        }
        let body = try f.body(f.batch(results: results))
        try await f.application().test(.router) { client in
            #expect(
                try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            let fleet = String(buffer: try await client.execute(uri: "/", method: .get).body)
            let detail = try await client.execute(
                uri: "/checks/" + StatusPageTestLinks.segment(check) + "?window=1h", method: .get)
            #expect(detail.status == .ok)
            let page = String(buffer: detail.body)
            #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
            for html in [fleet, page] {
                #expect(!html.contains("<script"), "no script element at all")
                #expect(!html.contains("<img") && !html.contains("<b>class</b>"))
                #expect(html.contains("x&quot;&gt;&lt;img src=y onerror=alert(1)&gt;"))
            }
        }
    }

    @Test func activeAlertsAreListedMostSevereFirst() async throws {
        let f = try IngestFixture()
        let now = f.now
        let alerts = [
            AlertNotification(
                fingerprint: "b", status: .firing,
                labels: ["alertname": "SondaCertExpiry", "severity": "low", "check": "login"],
                annotations: ["summary": "certificate of api.example expires in 19 days"],
                startsAt: now.addingTimeInterval(-7200), generatorURL: "http://sonda/"),
            AlertNotification(
                fingerprint: "a", status: .firing,
                labels: ["alertname": "SondaTLSPolicy", "severity": "critical", "check": "legacy", "region": "rio"],
                annotations: ["summary": "TLSv1.2 <negotiated>"], startsAt: now.addingTimeInterval(-42),
                generatorURL: "http://sonda/"),
            AlertNotification(
                fingerprint: "c", status: .resolved, labels: ["alertname": "SondaDown", "severity": "critical"],
                annotations: ["summary": "was down"], startsAt: now.addingTimeInterval(-600), endsAt: now,
                generatorURL: "http://sonda/"),
        ]
        let app = Application(
            router: AggregatorRouter(config: f.config, store: f.store, activeAlerts: { alerts }, now: { now }).build())
        try await app.test(.router) { client in
            let html = String(buffer: try await client.execute(uri: "/", method: .get).body)
            let shown = html.matches(of: /<li class="sev-([a-z]+)" data-alert="([A-Za-z]+)">(.*?)<\/li>/)
            #expect(
                shown.map { "\($0.output.1) \($0.output.2)" } == ["critical SondaTLSPolicy", "low SondaCertExpiry"])
            let critical = String(try #require(shown.first).output.3)
            #expect(
                critical.contains("TLSv1.2 &lt;negotiated&gt;") && critical.contains("region=rio")
                    && critical.contains("since 42 s ago"))
            #expect(
                critical.contains(#"check=<a href="/checks/legacy">legacy</a>"#), "an alert links to its check's page")
            #expect(html.contains("2 firing") && html.contains("firing alerts · 1 critical"))
            #expect(!html.contains("SondaDown"), "resolved alerts are not active")
        }
        struct Unreachable: Error {}
        let failing = Application(
            router: AggregatorRouter(
                config: f.config, store: f.store, activeAlerts: { throw Unreachable() }, now: { now }
            ).build())
        try await failing.test(.router) { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains("Alerts could not be read"))
        }
    }

    @Test func aLargeFleetIsSummarisedPerRegionListingOnlyAgentsThatNeedALook() async throws {
        let ids = (0..<25).map { "sp-\($0)" } + (0..<20).map { "rj-\($0)" }
        let f = try IngestFixture(agents: ids)
        try await f.application().test(.router) { client in
            for (agent, region, quarantined) in [
                ("sp-0", "sao_paulo", nil), ("rj-0", "rio", nil), ("sp-2", "sao_paulo", 6),
            ] {
                let result = IngestFixture.result(totalMilliseconds: 80, at: f.now, agent: agent, region: region)
                let body = try f.body(f.batch(agent: agent, results: [result], quarantined: quarantined))
                #expect(try await client.post(body, signature: try f.signature(for: body, agent: agent)).status == .ok)
            }
            let html = String(buffer: try await client.execute(uri: "/", method: .get).body)
            let regions = html.matches(
                of: /<tr data-region="([a-z_]+)"><td>[^<]*<\/td><td><span class="badge s-([a-z-]+)">[^ ]+ (\d+ \/ \d+)</
            )
            #expect(
                regions.map { "\($0.output.1) \($0.output.3) \($0.output.2)" } == [
                    "rio 1 / 20 degraded", "sao_paulo 2 / 25 degraded",
                ])
            // A reporting agent whose results an aggregator refused for good needs a look too.
            let refused = try #require(html.firstMatch(of: /<tr data-agent="sp-2">(.*?)<\/tr>/)).output.1
            #expect(refused.contains(#"<span class="badge s-degraded">▲ 6</span>"#), "\(refused)")
            #expect(html.contains(#"<th class="num">quarantined</th>"#))
            #expect(
                html.contains(#"<tr class="silent" data-agent="sp-1">"#)
                    && html.contains(#"<tr class="silent" data-agent="rj-19">"#))
            #expect(!html.contains(#"data-agent="sp-0""#), "a healthy agent is only counted")
            #expect(html.contains("3 of 45 reporting"))
        }
    }

    @Test func theStatusPagesNeedAReadTokenAsHeaderOrQuery() async throws {
        let f = try IngestFixture(readTokens: ["s3cret"])
        let body = try f.body(f.batch(results: [IngestFixture.result(totalMilliseconds: 80, at: f.now)]))
        try await f.application().test(.router) { client in
            #expect(
                try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            for path in ["/", "/checks/booking-slots"] {
                let none = try await client.execute(uri: path, method: .get)
                #expect(none.status == .unauthorized)
                #expect(String(buffer: none.body).contains("?token=TOKEN"))
                #expect(try await client.execute(uri: path + "?token=nope", method: .get).status == .unauthorized)
                let wrong = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer nope"])
                #expect(wrong.status == .unauthorized)

                let byQuery = try await client.execute(uri: path + "?token=s3cret", method: .get)
                #expect(byQuery.status == .ok)
                let linked = String(buffer: byQuery.body)
                #expect(linked.contains("token=s3cret"), "links keep the token so the next click works")
                #expect(linked.contains(#"<meta name="referrer" content="no-referrer">"#))

                let byHeader = try await client.execute(
                    uri: path, method: .get, headers: [.authorization: "Bearer s3cret"])
                #expect(byHeader.status == .ok)
                #expect(
                    !String(buffer: byHeader.body).contains("s3cret"), "a header's token is never written into the page"
                )
            }
            #expect(
                try await client.execute(uri: "/v1/budgets?token=s3cret", method: .get).status == .unauthorized,
                "JSON endpoints take the header only")
        }
    }
}

enum StatusPageTestLinks {
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return text.addingPercentEncoding(withAllowedCharacters: allowed)!
    }
}

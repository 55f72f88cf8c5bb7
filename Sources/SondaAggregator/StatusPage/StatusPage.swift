import Foundation
import SondaConfig
import SondaCore

/// The aggregator's status pages, rendered on the server as HTML with inline SVG and CSS:
/// `/` (the fleet) and `/checks/{name}` (one check). Active alerts come from `activeAlerts`, which
/// the alerting side provides; without it the page shows none.
public struct StatusPage: Sendable {
    public var config: AggregatorConfig
    public var store: any AggregatorStore
    public var activeAlerts: @Sendable () async throws -> [AlertNotification]
    public var now: @Sendable () -> Date

    public init(
        config: AggregatorConfig, store: any AggregatorStore,
        activeAlerts: @escaping @Sendable () async throws -> [AlertNotification] = { [] },
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.config = config
        self.store = store
        self.activeAlerts = activeAlerts
        self.now = now
    }

    /// An answer: status and HTML.
    public struct Rendered: Sendable {
        public var status: Int
        public var html: String
    }

    /// The fleet page over a budget window like "1h"; `token` is carried into its links.
    public func fleet(window text: String, token: String? = nil) async throws -> Rendered {
        let at = now()
        let links = StatusLinks(token: token)
        guard let window = try? DurationParsing.parse(text), window > .zero, window <= config.rollupRetention else {
            return Rendered(
                status: 400,
                html: StatusPageLayout.message(
                    title: "Bad window", text: "The window '\(text)' is not a duration like 15m, 1h, 24h or 7d.",
                    generatedAt: at, back: links.fleet()))
        }
        var alertFailure: String?
        var alerts: [AlertNotification] = []
        do { alerts = try await activeAlerts() } catch { alertFailure = "\(error)" }
        let (firing, failure) = (alerts, alertFailure)
        let evaluator = BudgetEvaluator(rules: config.budgets)
        let (config, regions) = (config, Array(Set(config.agents.map(\.region))))
        let budgets = try await evaluator.report(window: window, windowText: text, filter: CellFilter(), now: at, from: store)
        let uptime = try await store.uptimeHistory(slo: config.slo, now: at)
        let agents = AgentStatus.list(configured: config.agents, records: try await store.agents(), now: at).agents
        let certificates = try await store.certificateExpiry(
            checks: uptime.checks.filter { $0.last24Hours.total > 0 }.map(\.name).sorted(), now: at)
        let data = FleetPage(
            budgets: budgets, uptime: uptime, agents: agents, certificates: certificates, alerts: firing,
            alertFailure: failure, regions: regions)
        return Rendered(status: 200, html: data.render(config: config, links: links, now: at))
    }

    /// One check's page over "1h" (per minute) or "24h" (per hour), optionally for one profile.
    public func check(name: String, window: String = "24h", profile: String? = nil, token: String? = nil)
        async throws -> Rendered
    {
        let at = now()
        let links = StatusLinks(token: token)
        guard let bucketing = CheckLatency.Bucketing.of(window: window) else {
            return Rendered(
                status: 400,
                html: StatusPageLayout.message(
                    title: "Bad window",
                    text: "A check's page shows 1h (per minute) or 24h (per hour), not '\(window)'.",
                    generatedAt: at, back: links.fleet()))
        }
        let day = Int64(at.timeIntervalSince1970 / 86_400)
        var page: CheckPage?
        if try await store.knowsCheck(name, sinceDay: day - 30) {
            let latency = try await store.checkLatency(check: name, bucketing: bucketing, profile: profile, now: at)
            let failures = try await store.checkFailures(
                check: name, regions: Set(latency.slices.map(\.region)).sorted(),
                profiles: Set(latency.slices.map(\.profile)).sorted(), fromMinute: latency.start / 60,
                toMinute: Int64(at.timeIntervalSince1970 / 60), limit: 25)
            page = CheckPage(name: name, profile: profile, latency: latency, failures: failures, rules: config.budgets)
        }
        guard let page else {
            return Rendered(
                status: 404,
                html: StatusPageLayout.message(
                    title: "Unknown check", text: "No results for a check named '\(name)' in the last 30 days.",
                    generatedAt: at, back: links.fleet()))
        }
        return Rendered(status: 200, html: page.render(links: links, now: at))
    }
}

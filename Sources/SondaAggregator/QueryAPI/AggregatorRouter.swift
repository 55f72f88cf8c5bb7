import Foundation
import Hummingbird
import SondaConfig
import SondaCore

/// The aggregator's HTTP surface: ingest (signed, for agents), the read API (bearer token unless
/// public) and changes to silences (admin token, or loopback when none is configured). Built as a
/// router so tests drive it with `app.test(.router)`.
public struct AggregatorRouter: Sendable {
    public let config: AggregatorConfig
    public let store: any AggregatorStore
    public let counters: IngestCounters
    public let deliveries: DeliveryCounters
    /// The alerts the status page lists as active (the alert store's firing alerts).
    public let activeAlerts: @Sendable () async throws -> [AlertNotification]
    let now: @Sendable () -> Date

    public init(
        config: AggregatorConfig, store: any AggregatorStore, counters: IngestCounters = IngestCounters(),
        deliveries: DeliveryCounters = DeliveryCounters(),
        activeAlerts: @escaping @Sendable () async throws -> [AlertNotification] = { [] },
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.config = config
        self.store = store
        self.counters = counters
        self.deliveries = deliveries
        self.activeAlerts = activeAlerts
        self.now = now
    }

    public func build() -> Router<AggregatorRequestContext> {
        let router = Router(context: AggregatorRequestContext.self)
        router.add(middleware: UnroutedRequests())
        router.add(middleware: DatabaseUnavailable())
        let ingest = IngestEndpoint(store: store, config: config, counters: counters, now: now)
        router.get("/health") { _, _ in
            try await store.ping()
            let health = store.faults.health()
            return Response(
                status: .init(code: health.httpStatus), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: health.json)))
        }
        router.post("/v1/results") { request, _ in try await ingest.handle(request) }
        let tokens = AccessTokens(read: config.readTokens, admin: config.adminTokens)
        StatusPage(config: config, store: store, activeAlerts: activeAlerts, now: now)
            .register(on: router, tokens: tokens)
        let read = router.group().add(middleware: ReadAuthorization(tokens: tokens))
        let admin = router.group().add(middleware: AdminAuthorization(tokens: tokens))
        SilenceChanges(store: store, now: now).register(on: admin)
        read.get("/v1/budgets") { request, _ in
            let q = QueryParameters(request: request)
            let (window, text) = try q.window(maximum: config.rollupRetention)
            let filter = CellFilter(
                region: q.string("region"), profile: q.string("profile"), endpointClass: q.string("class"))
            let report = try await budgets(window: window, text: text, filter: filter)
            return try json(report)
        }
        read.get("/v1/uptime") { request, _ in
            let q = QueryParameters(request: request)
            let (window, text) = try q.window(maximum: config.rollupRetention)
            let (check, region) = (q.string("check"), q.string("region"))
            let (slo, at) = (config.slo, now())
            let report = try await UptimeReport.compute(
                window: window, windowText: text, slo: slo, check: check, region: region, now: at, from: store)
            return try json(report)
        }
        read.get("/v1/agents") { request, _ in
            let page = try ListPage<AgentPosition>(QueryParameters(request: request))
            let (agents, at) = (config.agents, now())
            return try json(try await AgentStatus.page(page, configured: agents, from: store, now: at))
        }
        read.get("/v1/checks/:name/results") { request, context in
            let name = try context.parameters.require("name")
            let q = QueryParameters(request: request)
            let limit = try q.int("limit", default: 100, in: 1...1000)
            let cursor = q.string("cursor").map { ("cursor", $0) } ?? q.string("before").map { ("before", $0) }
            return json(try await ResultPage.page(check: name, limit: limit, before: cursor, from: store))
        }
        AlertsEndpoint(store: store, deliveries: deliveries, now: now).register(on: read)
        read.get("/metrics") { _, _ in
            let report = try await budgets(window: .seconds(3600), text: "1h", filter: CellFilter())
            let text = AggregatorMetrics.render(
                ingest: counters.snapshot, budgets: report, deliveries: deliveries.snapshot, faults: store.faults)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }

    func budgets(window: Duration, text: String, filter: CellFilter) async throws -> BudgetReport {
        let evaluator = BudgetEvaluator(rules: config.budgets)
        let at = now()
        return try await evaluator.report(window: window, windowText: text, filter: filter, now: at, from: store)
    }
}

func json(_ text: String) -> Response {
    Response(
        status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
}

func json(_ value: some Encodable) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return json(String(decoding: try encoder.encode(value), as: UTF8.self))
}

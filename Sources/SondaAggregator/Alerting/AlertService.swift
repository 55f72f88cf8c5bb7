import Foundation
import Logging
import ServiceLifecycle
import SondaConfig
import SondaCore

/// Drops every round: the sink until receivers are wired in.
public struct DiscardingAlertSink: AlertSink {
    public init() {}
    public func send(_ round: AlertRound) async {}
}

/// Runs the alert engine every `evaluate_every` against the database: reads the results ingested
/// since its cursor (the results rowid, so a late batch of old results is still read), the agents'
/// last heartbeat, and once a minute the budget cells and burn-rate counts from the rollups; saves
/// the alerts and the cursor in one transaction, then hands the round to the sink.
///
/// After a restart it restores the pending and firing alerts and replays the last hour of results
/// into the engine, so an alert that is still true stays the same alert and is not re-announced.
public actor AlertService: Service {
    /// Results replayed into a fresh engine: enough for every streak, TLS and certificate state.
    static let warmUp: TimeInterval = 3600
    static let rollupRefresh: TimeInterval = 60
    static let page = 20_000

    let config: AggregatorConfig
    let store: any AggregatorStore
    let sink: any AlertSink
    let now: @Sendable () -> Date
    let logger: Logger
    var engine: AlertEngine?
    var cursor: Int64 = 0
    var rollupsAt: Date?

    public init(
        config: AggregatorConfig, store: any AggregatorStore, sink: any AlertSink = DiscardingAlertSink(),
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "sonda-aggregator.alerts")
    ) {
        self.config = config
        self.store = store
        self.sink = sink
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        let every = config.alerting.evaluateEvery
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                _ = try await evaluateOnce()
            } catch {
                logger.error("alert evaluation failed: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
        }
    }

    /// One evaluation at `now()`: what `run` does every period, callable from tests.
    @discardableResult
    public func evaluateOnce() async throws -> AlertRound {
        let at = now()
        var engine: AlertEngine
        if let running = self.engine {
            engine = running
        } else {
            engine = try await start(at: at)
        }
        let (events, last) = try await store.resultEvents(after: cursor, limit: Self.page)
        for event in events.sorted(by: { $0.startedAt < $1.startedAt }) where isConfigured(event.agent) {
            engine.add(event)
        }
        let agents = try await store.agents()
        let silences = try await store.silences(notEndedAt: at)
        for agent in agents where isConfigured(agent.id) {
            engine.add(HeartbeatEvent(agent: agent.id, region: agent.region, at: agent.lastSeen))
        }
        var rollups = RollupInputs()
        if rollupsAt.map({ at.timeIntervalSince($0) >= Self.rollupRefresh || at < $0 }) ?? true {
            rollups = try await self.rollups(at: at)
            rollupsAt = at
        }
        let evaluation = engine.evaluate(at: at, rollups: rollups, silences: silences)
        let next = last ?? cursor
        try await store.saveAlerts(evaluation, cursor: next, at: at)
        self.engine = engine
        cursor = next
        await sink.send(evaluation.round)
        return evaluation.round
    }

    private func start(at now: Date) async throws -> AlertEngine {
        let options = AlertEngine.Options(alerting: config.alerting, objective: config.slo.availability)
        let start = try await store.alertStart(since: now.addingTimeInterval(-Self.warmUp))
        var engine = AlertEngine(options: options, restoring: start.active)
        for event in start.recent where isConfigured(event.agent) { engine.add(event) }
        for agent in config.agents { engine.expect(agent: agent.id, region: agent.region, since: now) }
        cursor = start.cursor
        logger.notice(
            "alerts: \(start.active.count) active alerts restored, \(start.recent.count) recent results replayed")
        return engine
    }

    /// An agent removed from the configuration is forgotten, rather than reported silent forever.
    private func isConfigured(_ agent: String) -> Bool {
        config.agents.isEmpty || config.agents.contains { $0.id == agent }
    }

    private func rollups(at now: Date) async throws -> RollupInputs {
        let window = config.alerting.budgetWindow
        let cells = try await BudgetEvaluator(rules: config.budgets).report(
            window: window, windowText: DurationParsing.format(window), filter: CellFilter(), now: now, from: store
        ).cells
        return RollupInputs(budgetCells: cells, burns: try await store.burnCounts(now: now))
    }
}

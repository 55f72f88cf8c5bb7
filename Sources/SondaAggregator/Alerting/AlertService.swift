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
///
/// With several replicas on one database, only the holder of the fleet's lease evaluates: the
/// others stand by, renewing nothing, and try to take the lease every `leaseRenewal`; the holder
/// renews it as often. Its saves are fenced by the lease, so a replica that lost it (paused, cut
/// off) cannot write alert state or send a round, and the one that took over starts from the
/// database as after a restart. A `kill -9` of the holder is taken over within `leaseTTL` plus one
/// renewal.
public actor AlertService: Service {
    /// Results replayed into a fresh engine: enough for every streak, TLS and certificate state.
    static let warmUp: TimeInterval = 3600
    static let rollupRefresh: TimeInterval = 60
    /// Results read a round, at most (whole transactions on PostgreSQL).
    let page: Int
    static let leaseTTL: Duration = .seconds(10)
    static let leaseRenewal: Duration = .seconds(2)

    let config: AggregatorConfig
    let store: any AggregatorStore
    let sink: any AlertSink
    let now: @Sendable () -> Date
    let logger: Logger
    /// This replica's name as a lease holder.
    let replica: String
    var lease: Lease?
    var standingBy = false
    var engine: AlertEngine?
    var cursor: Int64 = 0
    /// Whether the last round read at least half a page: more results are likely waiting, and the
    /// next round runs at once. With one page a period, the evaluator would read at most 20 000
    /// results every 15 s (1 333 a second) and fall behind a spool catching up, or a bigger fleet,
    /// for as long as the load lasts.
    var behind = false
    var rollupsAt: Date?

    public init(
        config: AggregatorConfig, store: any AggregatorStore, sink: any AlertSink = DiscardingAlertSink(),
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "sonda-aggregator.alerts"),
        replica: String = Lease.replica, page: Int = 20_000
    ) {
        self.replica = replica
        self.page = page
        self.config = config
        self.store = store
        self.sink = sink
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        let every = config.alerting.evaluateEvery
        var next = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var holding = false
            do {
                holding = try await holdLease() != nil
                if holding, behind || ContinuousClock.now >= next {
                    next = ContinuousClock.now + every
                    _ = try await evaluateOnce()
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("alert evaluation failed: \(error)")
                behind = false  // tried again after the pause, not at once
            }
            let pause = Self.pause(holding: holding, untilNextRound: behind ? .zero : next - ContinuousClock.now)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    /// How long `run` waits before its next turn: the holder until its next round or its next
    /// renewal, whichever comes first; a standby (or a replica whose database failed) tries the
    /// lease again after `leaseRenewal`, rather than at once and again without end.
    static func pause(holding: Bool, untilNextRound: Duration) -> Duration {
        guard holding else { return leaseRenewal }
        return min(leaseRenewal, max(.zero, untilNextRound))
    }

    /// Takes or renews the fleet's lease; nil while another replica holds it. A replica that loses
    /// the lease forgets its engine, so it starts from the database if it leads again.
    @discardableResult
    func holdLease() async throws -> Lease? {
        let held = try await store.acquireLease(holder: replica, ttl: Self.leaseTTL)
        if held != lease || (held == nil && !standingBy) {
            if let held {
                logger.notice("alerts: this replica (\(replica)) evaluates now, lease epoch \(held.epoch)")
            } else {
                logger.notice("alerts: another replica evaluates; this one (\(replica)) stands by")
            }
            engine = nil
        }
        (lease, standingBy) = (held, held == nil)
        return held
    }

    /// One evaluation at `now()`: what `run` does every period, callable from tests. Throws
    /// `LeaseLost` when another replica holds the lease.
    @discardableResult
    public func evaluateOnce() async throws -> AlertRound {
        var current = lease
        if current == nil { current = try await holdLease() }
        guard let lease = current else {
            throw LeaseLost(lease: Lease(holder: replica, epoch: 0))
        }
        // Whole milliseconds, as the store keeps them: an alert restored from the database (after
        // a restart or a failover) announces the same startsAt as the one that announced it first.
        let at = Date(timeIntervalSince1970: (now().timeIntervalSince1970 * 1000).rounded() / 1000)
        var engine: AlertEngine
        if let running = self.engine {
            engine = running
        } else {
            engine = try await start(at: at)
        }
        let (events, last) = try await store.resultEvents(after: cursor, limit: page)
        behind = events.count >= page / 2
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
        do {
            try await store.saveAlerts(
                evaluation, cursor: next, at: at, lease: lease, notifications: sink.notifications(for: evaluation.round)
            )
        } catch let error as LeaseLost {
            logger.notice("alerts: \(error); this replica stands by")
            (self.lease, self.engine, standingBy) = (nil, nil, true)
            throw error
        }
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

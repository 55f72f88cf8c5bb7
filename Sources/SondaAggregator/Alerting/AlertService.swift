import Foundation
import GRDB
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
    let store: ResultStore
    let sink: any AlertSink
    let now: @Sendable () -> Date
    let logger: Logger
    var engine: AlertEngine?
    var cursor: Int64 = 0
    var rollupsAt: Date?

    public init(
        config: AggregatorConfig, store: ResultStore, sink: any AlertSink = DiscardingAlertSink(),
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
        let (events, last) = try await store.pool.read { [cursor] db in try Self.results(after: cursor, in: db) }
        for event in events.sorted(by: { $0.startedAt < $1.startedAt }) where isConfigured(event.agent) {
            engine.add(event)
        }
        let (heartbeats, silences) = try await store.pool.read { db in
            (try Self.heartbeats(in: db), try AlertStore.silences(notEndedAt: at, in: db))
        }
        for heartbeat in heartbeats where isConfigured(heartbeat.agent) { engine.add(heartbeat) }
        var rollups = RollupInputs()
        if rollupsAt.map({ at.timeIntervalSince($0) >= Self.rollupRefresh || at < $0 }) ?? true {
            rollups = try await self.rollups(at: at)
            rollupsAt = at
        }
        let evaluation = engine.evaluate(at: at, rollups: rollups, silences: silences)
        let next = last ?? cursor
        try await store.pool.write { db in try AlertStore.save(evaluation, cursor: next, at: at, in: db) }
        self.engine = engine
        cursor = next
        await sink.send(evaluation.round)
        return evaluation.round
    }

    private func start(at now: Date) async throws -> AlertEngine {
        let options = AlertEngine.Options(alerting: config.alerting, objective: config.slo.availability)
        let since = AlertStore.milliseconds(now.addingTimeInterval(-Self.warmUp))
        let (restored, saved, recent) = try await store.pool.read { db in
            let saved = try AlertStore.cursor(in: db) ?? Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM results") ?? 0
            let recent = try Self.events(
                db, where: "started_at_ms >= ? AND rowid <= ? ORDER BY started_at_ms", arguments: [since, saved])
            return (try AlertStore.active(in: db), saved, recent)
        }
        var engine = AlertEngine(options: options, restoring: restored)
        for (_, event) in recent where isConfigured(event.agent) { engine.add(event) }
        for agent in config.agents { engine.expect(agent: agent.id, region: agent.region, since: now) }
        cursor = saved
        logger.notice("alerts: \(restored.count) active alerts restored, \(recent.count) recent results replayed")
        return engine
    }

    /// An agent removed from the configuration is forgotten, rather than reported silent forever.
    private func isConfigured(_ agent: String) -> Bool {
        config.agents.isEmpty || config.agents.contains { $0.id == agent }
    }

    private func rollups(at now: Date) async throws -> RollupInputs {
        let evaluator = BudgetEvaluator(rules: config.budgets)
        let window = config.alerting.budgetWindow
        return try await store.pool.read { db in
            let cells = try evaluator.report(
                window: window, windowText: DurationParsing.format(window), filter: CellFilter(), now: now, in: db
            ).cells
            return RollupInputs(budgetCells: cells, burns: try Self.burns(now: now, in: db))
        }
    }

    // MARK: queries

    static func results(after cursor: Int64, in db: Database) throws -> ([ResultEvent], Int64?) {
        let rows = try events(db, where: "rowid > ? ORDER BY rowid LIMIT \(page)", arguments: [cursor])
        return (rows.map(\.1), rows.last?.0)
    }

    static func events(_ db: Database, where condition: String, arguments: StatementArguments) throws
        -> [(Int64, ResultEvent)]
    {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT rowid, check_name, class, agent, region, profile, started_at_ms, ok, error_code,
                       json_extract(json, '$.tls.version'), json_extract(json, '$.tls.earliest_expiry'), step
                FROM results WHERE \(condition)
                """,
            arguments: arguments)
        var events: [(Int64, ResultEvent)] = []
        while let row = try rows.next() {
            let expiry: String? = row[10]
            events.append(
                (
                    row[0],
                    ResultEvent(
                        check: row[1], endpointClass: row[2], agent: row[3], region: row[4], profile: row[5],
                        startedAt: AlertStore.date(row[6])!, ok: row[7], errorCode: row[8], tlsVersion: row[9],
                        certificateExpiry: expiry.flatMap(Timestamp.parse), step: row[11])
                ))
        }
        return events
    }

    static func heartbeats(in db: Database) throws -> [HeartbeatEvent] {
        try Row.fetchAll(db, sql: "SELECT id, region, last_seen_ms FROM agents").map {
            HeartbeatEvent(agent: $0[0], region: $0[1], at: AlertStore.date($0[2])!)
        }
    }

    /// Outcome counts per check × region over 5m, 30m, 1h and 6h in one pass over the minute rollups.
    static func burns(now: Date, in db: Database) throws -> [BurnCounts] {
        let minute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        let starts = [5, 30, 60, 360].map { minute - $0 }
        var columns: [String] = []
        for start in starts {
            columns.append("SUM(CASE WHEN minute >= \(start) THEN count ELSE 0 END)")
            columns.append("SUM(CASE WHEN minute >= \(start) AND error_code != '' THEN count ELSE 0 END)")
        }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT check_name, region, MAX(class), \(columns.joined(separator: ", "))
                FROM outcome_minute WHERE minute >= ? GROUP BY check_name, region
                """,
            arguments: [starts[3]])
        return rows.map { row in
            func window(_ i: Int) -> BurnCounts.Window { .init(total: row[3 + 2 * i], failed: row[4 + 2 * i]) }
            return BurnCounts(
                check: row[0], endpointClass: row[2], region: row[1], fiveMinutes: window(0), thirtyMinutes: window(1),
                oneHour: window(2), sixHours: window(3))
        }
    }
}

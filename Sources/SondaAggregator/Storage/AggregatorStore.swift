import Foundation
import ServiceLifecycle
import SondaConfig
import SondaCore

/// Everything the aggregator asks of its database. Only `Storage/` speaks SQL: the HTTP API, the
/// status page, the alert evaluator and the commands go through this protocol, so a second
/// database is a second implementation of it rather than SQL written again across the tree.
/// `SQLiteStore` is the embedded default.
///
/// Writes return only after their commit. Reads see every batch committed before they start.
public protocol AggregatorStore: Sendable {
    // MARK: ingest and upkeep

    /// Stores a batch in one transaction: new results (a known result id is ignored), their
    /// rollups, the agent's heartbeat, and `auditDetail` (when given) on the audit chain.
    /// `rawResults`, when given, is each result's JSON as received, stored as is. Every result is
    /// stored under `region` (the agent's configured one). With `rememberUntil`, the agent's batch
    /// id is remembered in the same transaction until then (or later): a batch id already
    /// remembered is a replay, which writes nothing and answers `replayed`, on every replica.
    @discardableResult
    func write(
        _ batch: ResultBatch, rawResults: RawResults?, region: String, now: Date, auditDetail: String?,
        rememberUntil: Date?
    ) async throws -> BatchReceipt
    /// Appends an entry to the audit chain in a transaction of its own.
    func appendAudit(kind: String, detail: String, at: Date) async throws
    /// Walks the audit chain from its first entry, noting the head hash at each count in `noting`.
    func verifyAudit(noting: Set<Int>) async throws -> AuditLog.Verification
    /// The audit chain's head, as a checkpoint signs it. PostgreSQL first links the batch entries
    /// queued to join the chain (as its lease holder does every second), so the head is current.
    func auditHead() async throws -> AuditLog.Head
    /// Throws when the database cannot answer a trivial query.
    func ping() async throws
    /// Deletes raw results and minute rollups older than `rawBefore`, hour and day rollups older
    /// than `rollupsBefore`; returns the raw results removed.
    @discardableResult
    func prune(rawBefore: Date, rollupsBefore: Date) async throws -> Int
    /// Forgets what has run out by `now`: silences that have ended, and batch ids remembered
    /// against replays whose time has passed. The pruner calls it on the replica holding the lease.
    @discardableResult
    func pruneExpired(now: Date) async throws -> ExpiredRows
    /// Merges rollups still held in memory into the tables (at shutdown; queries need not).
    func flushRollups() async throws
    /// Services of the store's own that run beside the server (SQLite's WAL checkpointer).
    var maintenance: [any Service] { get }
    /// Where the store's own work and the server's upkeep (retention) report faults that no
    /// request would see; `/health` and `/metrics` read it.
    var faults: FaultLog { get }
    /// Lets go of the database (the server's connections); the store is not used after.
    func close() async

    // MARK: budgets, uptime, agents, results

    /// The latency histograms of `phases` per region × profile × class over `span`, with an empty
    /// entry for cells that only failed in the span.
    func latencyHistograms(span: RollupSpan, filter: CellFilter, phases: [String]) async throws
        -> [BudgetCellKey: [String: HistogramAccumulator]]
    /// Outcome counts per check × region over `span`, optionally for one check or region.
    func outcomeCounts(span: RollupSpan, check: String?, region: String?) async throws -> [OutcomeCount]
    /// Every agent heard from, with its last heartbeat.
    func agents() async throws -> [AgentRecord]
    /// The agents among `ids` that have been heard from (a page of `GET /v1/agents`), by id.
    func agents(ids: [String]) async throws -> [AgentRecord]
    /// A check's stored results, newest first, strictly before `cursor` when given.
    func results(check: String, before cursor: ResultCursor?, limit: Int) async throws -> [StoredResult]

    // MARK: status page

    func uptimeHistory(slo: AggregatorConfig.Objective, now: Date) async throws -> UptimeHistory
    func certificateExpiry(checks: [String], now: Date) async throws -> CertificateExpiry
    /// Whether the check has a raw result, or an outcome in a day rollup since `sinceDay`.
    func knowsCheck(_ name: String, sinceDay: Int64) async throws -> Bool
    func checkLatency(check: String, bucketing: CheckLatency.Bucketing, profile: String?, now: Date) async throws
        -> CheckLatency
    func checkFailures(
        check: String, regions: [String], profiles: [String], fromMinute: Int64, toMinute: Int64, limit: Int
    ) async throws -> CheckFailures

    // MARK: leadership

    /// Takes the lease that lets one replica act for the whole fleet (evaluate alerts, prune), or
    /// renews it when `holder` has it, for `ttl`; nil while another replica holds it. A store that
    /// only one process can write (SQLite) grants it at once.
    func acquireLease(holder: String, ttl: Duration) async throws -> Lease?

    // MARK: alerts

    /// What a fresh evaluator starts from: the pending and firing alerts, the saved results
    /// cursor (or the newest result when none was saved), and the results started since `since`
    /// up to that cursor, oldest first.
    func alertStart(since: Date) async throws -> AlertStart
    /// Up to `limit` results stored after `cursor`, in storage order, and the cursor of the last.
    func resultEvents(after cursor: Int64, limit: Int) async throws -> (events: [ResultEvent], last: Int64?)
    /// Outcome counts per check × region over 5m, 30m, 1h and 6h before `now`.
    func burnCounts(now: Date) async throws -> [BurnCounts]
    /// Saves an evaluation and moves the cursor in one transaction: upserts what changed, forgets
    /// pending alerts that lapsed, appends each firing and resolution to the audit chain, and
    /// forgets resolved episodes older than `AlertHistory.kept`, and queues `notifications` (a key
    /// already queued is skipped). Fenced: throws `LeaseLost`, and writes nothing, unless `lease`
    /// is still the current one.
    func saveAlerts(
        _ evaluation: AlertEngine.Evaluation, cursor: Int64?, at: Date, lease: Lease, notifications: [Notification]
    ) async throws
    /// The pending and firing alerts.
    func activeAlerts() async throws -> [TrackedAlert]
    /// Up to `limit` of the alerts `selection` picks, in its order, strictly after `position` when
    /// given (keyset paging: each page costs the same however deep it is).
    func alerts(_ selection: AlertSelection, after position: AlertPosition?, limit: Int) async throws
        -> [TrackedAlert]
    /// Up to `limit` silences not yet over at `now` (active or scheduled), soonest ending first
    /// (then by id), strictly after `position` when given.
    func silences(notEndedAt now: Date, after position: SilencePosition?, limit: Int) async throws -> [Silence]
    /// Stores a silence and records it on the audit chain.
    func insert(_ silence: Silence) async throws
    /// Ends silence `id` at `at` (one scheduled later never starts) and records it on the audit
    /// chain; nil when no silence with that id is active or scheduled.
    func expireSilence(id: String, at: Date) async throws -> Silence?

    // MARK: notifications queued for delivery

    /// Claims the oldest notification still to be delivered to `receiver`, until `until`, when
    /// it is due at `now` and nobody else's claim on it is running; nil otherwise. Only the oldest
    /// is ever handed out, so a receiver gets its notifications in order.
    func claimNotification(receiver: String, now: Date, until: Date) async throws -> Notification.Claimed?
    /// Records how a claimed notification's delivery ended: `.delivered`, `.failed` or `.expired`
    /// for good, or `.pending` with the time to try again.
    func finishNotification(id: Int64, state: Notification.State, retryAt: Date?, error: String?, at: Date)
        async throws
    /// How many notifications wait per receiver.
    func pendingNotifications() async throws -> [String: Int]
}

extension AggregatorStore {
    /// Walks the audit chain from its first entry.
    public func verifyAudit() async throws -> AuditLog.Verification {
        try await verifyAudit(noting: [])
    }

    /// Every silence not yet over at `now`, soonest ending first.
    public func silences(notEndedAt now: Date) async throws -> [Silence] {
        try await silences(notEndedAt: now, after: nil, limit: Int(Int32.max))
    }

    /// A batch written without remembering its id (tests, tools): see the requirement.
    @discardableResult
    public func write(_ batch: ResultBatch, rawResults: RawResults?, region: String, now: Date, auditDetail: String?)
        async throws -> BatchReceipt
    {
        try await write(
            batch, rawResults: rawResults, region: region, now: now, auditDetail: auditDetail, rememberUntil: nil)
    }
}

/// What one committed batch did. A replay (its batch id already remembered) changed nothing.
public struct BatchReceipt: Sendable, Hashable {
    public var accepted: Int
    public var duplicates: Int
    public var replayed = false

    /// A replay: every result counts as a duplicate.
    static func replay(of batch: ResultBatch) -> Self {
        BatchReceipt(accepted: 0, duplicates: batch.results.count, replayed: true)
    }
}

/// What `pruneExpired` removed.
public struct ExpiredRows: Sendable, Hashable {
    public var silences = 0
    public var batchIDs = 0
}

/// A notification of alert changes for one receiver: its request body, queued in the same
/// transaction as the alert state it announces and delivered until sent or expired.
public struct Notification: Sendable, Hashable {
    public enum State: String, Sendable { case pending, delivered, failed, expired }

    /// What the notification announces, for receiver × alert transitions: the same round saved
    /// twice queues it once.
    public var key: String
    public var receiver: String
    public var body: Data
    /// How many alerts the body carries.
    public var alerts: Int
    public var createdAt: Date

    public init(key: String, receiver: String, body: Data, alerts: Int, createdAt: Date) {
        self.key = key
        self.receiver = receiver
        self.body = body
        self.alerts = alerts
        self.createdAt = createdAt
    }

    /// A notification handed to one sender: its row and how many tries it has had, this one included.
    public struct Claimed: Sendable, Hashable {
        public var id: Int64
        public var notification: Notification
        public var attempts: Int
    }
}

/// A budget cell's dimensions.
public struct BudgetCellKey: Hashable, Comparable, Sendable {
    public var region: String
    public var profile: String
    public var endpointClass: String

    public static func < (a: Self, b: Self) -> Bool {
        (a.region, a.profile, a.endpointClass) < (b.region, b.profile, b.endpointClass)
    }
}

/// How many results of a check in a region passed and failed over a span.
public struct OutcomeCount: Hashable, Sendable {
    public var check: String
    public var region: String
    public var total: Int
    public var failed: Int
}

/// An agent's row: the last heartbeat it sent and what it has delivered so far.
public struct AgentRecord: Hashable, Sendable {
    public var id: String
    public var region: String
    public var lastSeen: Date
    public var version: String?
    public var configHash: String?
    public var spoolDepth: Int?
    public var dropped: Int?
    /// Results the aggregator refused for good and the agent set aside (heartbeat `quarantined`).
    public var quarantined: Int = 0
    public var batches: Int
    public var results: Int
}

/// A position in a check's results, newest first: (started at, id).
public struct ResultCursor: Hashable, Sendable {
    public var startedAtMilliseconds: Int64
    public var id: String
}

/// One stored result: its position and its JSON as stored.
public struct StoredResult: Hashable, Sendable {
    public var cursor: ResultCursor
    public var json: String
}

/// See `AggregatorStore.alertStart(since:)`.
public struct AlertStart: Sendable {
    public var active: [TrackedAlert]
    public var cursor: Int64
    public var recent: [ResultEvent]
}

/// The right to act for the fleet, as one replica holds it: its `epoch` grows each time the lease
/// changes hands, so a write fenced with an old epoch is refused.
public struct Lease: Sendable, Hashable {
    public var holder: String
    public var epoch: Int64

    public init(holder: String, epoch: Int64) {
        self.holder = holder
        self.epoch = epoch
    }

    /// This process's name as a lease holder: host, process id and a random suffix.
    public static let replica: String = {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }()
}

/// A fenced write found that its lease had passed to another replica, and wrote nothing.
public struct LeaseLost: Error, CustomStringConvertible {
    public var lease: Lease
    public var description: String { "the lease of \(lease.holder) (epoch \(lease.epoch)) is no longer current" }
}

/// How long resolved alert episodes are kept.
public enum AlertHistory {
    public static let kept: TimeInterval = 14 * 86_400
}

import Foundation
import Logging
import ServiceLifecycle
import SondaConfig
import SondaCore
import Synchronization

/// Takes each evaluation round to the configured receivers: routes every alert (first matching
/// route), queues one request per receiver, and sends from one background task per receiver, so
/// a slow or dead receiver delays nobody else. Network errors, 408, 429 and 5xx are retried with
/// exponential backoff and jitter up to `Options.attempts`; then, or at once for any other 4xx,
/// the notifications count as failed and are dropped with a log line.
///
/// Alertmanager gets every firing alert at least once per `alertmanagerResend` and changes at once
/// (its own `repeat_interval` does reminders); webhooks and Slack get changes and reminders.
///
/// A `Service`: `run` sends until graceful shutdown, then tries what is queued once more each,
/// without backoff, for at most `drainTimeout`, and counts the rest as dropped.
///
/// With a store (as `serve` runs it), nothing is held in memory: each round's notifications are
/// queued in the database in the round's own transaction (`notifications(for:)`), and one sender
/// per receiver claims them oldest first, retrying with backoff until delivered or older than
/// `Options.expiry`; a restart, or another replica taking over, picks up what is still pending, and
/// a claim keeps two replicas from sending the same one.
public final class AlertDispatcher: AlertSink, Service {
    public struct Options: Sendable {
        /// Tries per request, the first included.
        public var attempts = 5
        public var backoff = Backoff(base: .seconds(1), cap: .seconds(30))
        public var requestTimeout: Duration = .seconds(10)
        public var alertmanagerResend: Duration = .seconds(60)
        /// Requests waiting per receiver; beyond it the oldest is dropped.
        public var queueLimit = 256
        public var drainTimeout: Duration = .seconds(5)
        /// With a store: how long a notification is retried before it counts as expired.
        public var expiry: Duration = .seconds(24 * 3600)
        /// With a store: how often an idle sender looks for notifications another replica queued.
        public var poll: Duration = .seconds(1)

        public init() {}
    }

    struct Delivery: Sendable {
        var url: String
        var body: Data
        var secret: String?
        var alerts: Int
        /// `Sonda-Delivery`: the same on every retry of this notification.
        var id: String
    }

    /// The header that names a notification, the same on each of its retries: delivery is at
    /// least once (a receiver that answered after the timeout is tried again), so a receiver that
    /// must not act twice keeps the ids it has seen.
    static let deliveryHeader = "Sonda-Delivery"

    /// One receiver's message for a round, before it goes to the queue in memory or in the store.
    struct Message: Sendable {
        var receiver: String
        var body: Data
        var alerts: [AlertNotification]
        /// Whether it repeats alerts already announced (reminders, Alertmanager's re-sends), which
        /// makes the round's time part of what it announces.
        var repeats: Bool
        var at: Date
    }

    private struct Queue: Sendable {
        var receiver: AlertingConfig.Receiver
        var stream: AsyncStream<Delivery>
        var continuation: AsyncStream<Delivery>.Continuation
    }

    struct State {
        var lastResend: [String: Date] = [:]
        var workers: [Task<Void, Never>] = []
        var started = false
        var draining = false
    }

    public let counters: DeliveryCounters
    private let config: AlertingConfig
    private let routes: AlertRoutes
    let options: Options
    let logger: Logger
    let now: @Sendable () -> Date
    let client = OutboundHTTP.shared
    private let queues: [String: Queue]
    let state = Mutex(State())
    private let store: (any AggregatorStore)?
    /// Counts the rounds queued in the store, so idle senders look again at once.
    let queuedRounds = Mutex(0)

    public init(
        config: AlertingConfig, options: Options = Options(), counters: DeliveryCounters = DeliveryCounters(),
        store: (any AggregatorStore)? = nil, logger: Logger = Logger(label: "sonda-aggregator.alerts"),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.config = config
        self.routes = AlertRoutes(routes: config.routes)
        self.options = options
        self.counters = counters
        self.logger = logger
        self.now = now
        var queues: [String: Queue] = [:]
        for receiver in config.receivers {
            let (stream, continuation) = AsyncStream.makeStream(
                of: Delivery.self, bufferingPolicy: .bufferingNewest(options.queueLimit))
            queues[receiver.name] = Queue(receiver: receiver, stream: stream, continuation: continuation)
            counters.register(receiver.name, kind: receiver.kind.name)
        }
        self.queues = queues
        for route in config.routes where queues[route.receiver] == nil {
            logger.error(
                "alert route names receiver '\(route.receiver)', which is not configured; its alerts go nowhere")
        }
    }

    /// Each receiver's message for a round: changes at once, reminders for webhooks and Slack, and
    /// every firing alert to Alertmanager at least once per `alertmanagerResend`.
    func messages(for round: AlertRound) -> [Message] {
        let changed = routes.split(round.changed)
        let firing = routes.split(round.firing)
        let reminders = routes.split(round.reminders)
        var messages: [Message] = []
        for receiver in config.receivers {
            let name = receiver.name
            let alerts: [AlertNotification]
            let body: () throws -> Data
            var repeats = !(reminders[name] ?? []).isEmpty
            switch receiver.kind {
            case .alertmanager:
                let changes = changed[name] ?? []
                let due = state.withLock { state in
                    let last = state.lastResend[name] ?? .distantPast
                    guard
                        !changes.isEmpty
                            || round.at.timeIntervalSince(last) >= options.alertmanagerResend.milliseconds / 1000
                    else { return false }
                    state.lastResend[name] = round.at
                    return true
                }
                guard due else { continue }
                alerts = unique(changes + (firing[name] ?? []))
                repeats = alerts.count > changes.count
                body = { [options, config] in
                    try AlertmanagerPayload.body(
                        alerts, at: round.at, resend: options.alertmanagerResend, externalURL: config.externalURL)
                }
            case .webhook:
                alerts = unique((changed[name] ?? []) + (reminders[name] ?? [])).map { alert in
                    var linked = alert
                    linked.generatorURL = StatusPageLink.url(for: alert, externalURL: config.externalURL) ?? ""
                    return linked
                }
                body = { try WebhookPayload.body(alerts) }
            case .slack:
                alerts = unique((changed[name] ?? []) + (reminders[name] ?? []))
                body = { [config] in try SlackMessage.body(alerts, externalURL: config.externalURL) }
            }
            guard !alerts.isEmpty else { continue }
            do {
                messages.append(
                    Message(receiver: name, body: try body(), alerts: alerts, repeats: repeats, at: round.at))
            } catch {
                logger.error("cannot encode notifications for '\(name)': \(error)")
            }
        }
        return messages
    }

    public func notifications(for round: AlertRound) -> [Notification] {
        guard store != nil else { return [] }
        return messages(for: round).map { message in
            Notification(
                key: Self.key(message), receiver: message.receiver, body: message.body,
                alerts: message.alerts.count, createdAt: message.at)
        }
    }

    /// What a message announces, for receiver × alert transitions (and the round's time when it
    /// repeats alerts): the same round saved twice queues it once.
    static func key(_ message: Message) -> String {
        var identity = message.alerts.map { alert in
            let at = alert.endsAt ?? alert.startsAt
            return "\(alert.fingerprint)/\(alert.status.rawValue)/\(Int64(at.timeIntervalSince1970 * 1000))"
        }.sorted().joined(separator: ",")
        if message.repeats { identity += "@\(Int64(message.at.timeIntervalSince1970 * 1000))" }
        return "\(message.receiver)|" + AuditLog.digest(Data(identity.utf8))
    }

    /// The `Sonda-Delivery` value of a notification's key: 32 hex digits, no receiver name.
    static func deliveryID(key: String) -> String { String(AuditLog.digest(Data(key.utf8)).prefix(32)) }

    public func send(_ round: AlertRound) async {
        guard store == nil else {
            queuedRounds.withLock { $0 += 1 }
            return
        }
        for message in messages(for: round) {
            guard let receiver = queues[message.receiver]?.receiver else { continue }
            let (url, secret) = Self.target(receiver)
            enqueue(
                message.receiver, url: url, secret: secret, body: message.body, alerts: message.alerts.count,
                id: Self.deliveryID(key: Self.key(message)))
        }
    }

    /// Where a receiver's requests go, and the webhook's signing secret.
    static func target(_ receiver: AlertingConfig.Receiver) -> (url: String, secret: String?) {
        switch receiver.kind {
        case .alertmanager(let url): (trimmed(url) + "/api/v2/alerts", nil)
        case .webhook(let url, let secret): (url, secret?.isEmpty == false ? secret : nil)
        case .slack(let url): (url, nil)
        }
    }

    /// Starts the senders (once). `run` calls it; tests without a ServiceGroup call it directly.
    public func start() {
        state.withLock { state in
            guard !state.started else { return }
            state.started = true
            if let store {
                for queue in queues.values {
                    state.workers.append(Task { [self] in await sendQueued(queue.receiver, store: store) })
                }
            } else {
                for queue in queues.values {
                    state.workers.append(Task { [self] in await drain(queue) })
                }
            }
        }
    }

    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Stops taking rounds, sends what is queued without backoff for at most `drainTimeout`, then
    /// abandons the rest (counted as dropped).
    public func stop() async {
        let workers = state.withLock { state in
            state.draining = true
            return state.workers
        }
        if store != nil {
            // What is pending stays queued in the store for the next start or another replica.
            workers.forEach { $0.cancel() }
            for worker in workers { await worker.value }
            return
        }
        for queue in queues.values { queue.continuation.finish() }
        let deadline = Task {
            try? await Task.sleep(for: options.drainTimeout)
            guard !Task.isCancelled else { return }
            workers.forEach { $0.cancel() }
        }
        for worker in workers { await worker.value }
        deadline.cancel()
        for status in counters.snapshot where status.queued > 0 {
            logger.warning("alert delivery stopped: \(status.queued) notifications for '\(status.receiver)' abandoned")
            counters.update(status.receiver) {
                $0.dropped += $0.queued
                $0.queued = 0
            }
        }
    }

    private func enqueue(_ receiver: String, url: String, secret: String?, body data: Data, alerts: Int, id: String) {
        guard let queue = queues[receiver] else { return }
        counters.update(receiver) { $0.queued += alerts }
        let delivery = Delivery(url: url, body: data, secret: secret, alerts: alerts, id: id)
        switch queue.continuation.yield(delivery) {
        case .enqueued: break
        case .dropped(let old):
            logger.warning("alert queue for '\(receiver)' is full; dropped \(old.alerts) notifications")
            counters.update(receiver) {
                $0.queued -= old.alerts
                $0.dropped += old.alerts
            }
        case .terminated:
            counters.update(receiver) {
                $0.queued -= alerts
                $0.dropped += alerts
            }
        @unknown default: break
        }
    }

    private func drain(_ queue: Queue) async {
        for await delivery in queue.stream {
            await deliver(delivery, to: queue.receiver.name)
            counters.update(queue.receiver.name) { $0.queued -= delivery.alerts }
        }
    }

    private func deliver(_ delivery: Delivery, to receiver: String) async {
        var backoff = options.backoff
        var random = SystemRandomNumberGenerator()
        for attempt in 1...max(1, options.attempts) {
            var headers = [Self.deliveryHeader: delivery.id]
            if let secret = delivery.secret {
                headers[WebhookPayload.signatureHeader] = WebhookPayload.signature(
                    body: delivery.body, secret: secret, at: now())
            }
            let outcome = await DeliveryAttempt.post(
                delivery.url, body: delivery.body, headers: headers, timeout: options.requestTimeout, client: client)
            switch outcome {
            case .delivered:
                let at = now()
                counters.update(receiver) {
                    $0.sent += delivery.alerts
                    $0.lastSuccessAt = at
                }
                return
            case .refused(let reason):
                return failed(delivery.alerts, receiver, reason: reason, attempts: attempt)
            case .retry(let reason):
                let draining = state.withLock { $0.draining }
                if attempt >= options.attempts || draining || Task.isCancelled {
                    return failed(delivery.alerts, receiver, reason: reason, attempts: attempt)
                }
                counters.update(receiver) { $0.retries += 1 }
                let wait = backoff.failed(using: &random)
                logger.debug("alert delivery to '\(receiver)' failed (\(reason)); retrying in \(wait)")
                await pause(wait)
            }
        }
    }

    /// Waits `duration` between retries, in short steps so that `stop` ends the wait at once.
    private func pause(_ duration: Duration) async {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end, !Task.isCancelled, !state.withLock({ $0.draining }) {
            try? await Task.sleep(for: min(.milliseconds(100), end - ContinuousClock.now))
        }
    }

    func failed(_ alerts: Int, _ receiver: String, reason: String, attempts: Int) {
        let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
        logger.error(
            "alert delivery to '\(receiver)' failed after \(tries); dropped \(alerts) notifications: \(reason)"
        )
        let at = now()
        counters.update(receiver) {
            $0.failed += alerts
            $0.lastError = reason
            $0.lastErrorAt = at
        }
    }

    private func unique(_ alerts: [AlertNotification]) -> [AlertNotification] {
        var seen = Set<String>()
        return alerts.filter { seen.insert($0.fingerprint).inserted }
    }

    private static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}

extension AlertingConfig.Receiver.Kind {
    /// `alertmanager`, `webhook` or `slack`, as in the configuration.
    var name: String {
        switch self {
        case .alertmanager: "alertmanager"
        case .webhook: "webhook"
        case .slack: "slack"
        }
    }
}

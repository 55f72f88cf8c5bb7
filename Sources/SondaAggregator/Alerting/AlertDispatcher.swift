import Foundation
import Logging
import ServiceLifecycle
import SondaConfig
import SondaCore
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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

        public init() {}
    }

    struct Delivery: Sendable {
        var url: String
        var body: Data
        var secret: String?
        var alerts: Int
    }

    private struct Queue: Sendable {
        var receiver: AlertingConfig.Receiver
        var stream: AsyncStream<Delivery>
        var continuation: AsyncStream<Delivery>.Continuation
    }

    private struct State {
        var lastResend: [String: Date] = [:]
        var workers: [Task<Void, Never>] = []
        var started = false
        var draining = false
    }

    public let counters: DeliveryCounters
    private let config: AlertingConfig
    private let routes: AlertRoutes
    private let options: Options
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let session: URLSession
    private let queues: [String: Queue]
    private let state = Mutex(State())

    public init(
        config: AlertingConfig, options: Options = Options(), counters: DeliveryCounters = DeliveryCounters(),
        logger: Logger = Logger(label: "sonda-aggregator.alerts"), now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.config = config
        self.routes = AlertRoutes(routes: config.routes)
        self.options = options
        self.counters = counters
        self.logger = logger
        self.now = now
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = options.requestTimeout.milliseconds / 1000
        configuration.timeoutIntervalForResource = options.requestTimeout.milliseconds / 1000
        session = URLSession(configuration: configuration)
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

    public func send(_ round: AlertRound) async {
        let changed = routes.split(round.changed)
        let firing = routes.split(round.firing)
        let reminders = routes.split(round.reminders)
        for receiver in config.receivers {
            let name = receiver.name
            switch receiver.kind {
            case .alertmanager(let url):
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
                let alerts = unique(changes + (firing[name] ?? []))
                guard due, !alerts.isEmpty else { continue }
                enqueue(name, url: Self.trimmed(url) + "/api/v2/alerts", secret: nil, alerts: alerts.count) {
                    try AlertmanagerPayload.body(
                        alerts, at: round.at, resend: options.alertmanagerResend, externalURL: config.externalURL)
                }
            case .webhook(let url, let secret):
                let alerts = unique((changed[name] ?? []) + (reminders[name] ?? [])).map { alert in
                    var linked = alert
                    linked.generatorURL = StatusPageLink.url(for: alert, externalURL: config.externalURL) ?? ""
                    return linked
                }
                guard !alerts.isEmpty else { continue }
                enqueue(name, url: url, secret: secret, alerts: alerts.count) { try WebhookPayload.body(alerts) }
            case .slack(let url):
                let alerts = unique((changed[name] ?? []) + (reminders[name] ?? []))
                guard !alerts.isEmpty else { continue }
                enqueue(name, url: url, secret: nil, alerts: alerts.count) {
                    try SlackMessage.body(alerts, externalURL: config.externalURL)
                }
            }
        }
    }

    /// Starts the senders (once). `run` calls it; tests without a ServiceGroup call it directly.
    public func start() {
        state.withLock { state in
            guard !state.started else { return }
            state.started = true
            for queue in queues.values {
                state.workers.append(Task { [self] in await drain(queue) })
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

    private func enqueue(_ receiver: String, url: String, secret: String?, alerts: Int, body: () throws -> Data) {
        guard let queue = queues[receiver] else { return }
        let data: Data
        do {
            data = try body()
        } catch {
            logger.error("cannot encode notifications for '\(receiver)': \(error)")
            return
        }
        counters.update(receiver) { $0.queued += alerts }
        let delivery = Delivery(url: url, body: data, secret: secret?.isEmpty == false ? secret : nil, alerts: alerts)
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
            var headers: [String: String] = [:]
            if let secret = delivery.secret {
                headers[WebhookPayload.signatureHeader] = WebhookPayload.signature(
                    body: delivery.body, secret: secret, at: now())
            }
            let outcome = await DeliveryAttempt.post(
                delivery.url, body: delivery.body, headers: headers, timeout: options.requestTimeout, session: session)
            switch outcome {
            case .delivered:
                let at = now()
                counters.update(receiver) {
                    $0.sent += delivery.alerts
                    $0.lastSuccessAt = at
                }
                return
            case .refused(let reason):
                return failed(delivery, receiver, reason: reason, attempts: attempt)
            case .retry(let reason):
                let draining = state.withLock { $0.draining }
                if attempt >= options.attempts || draining || Task.isCancelled {
                    return failed(delivery, receiver, reason: reason, attempts: attempt)
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

    private func failed(_ delivery: Delivery, _ receiver: String, reason: String, attempts: Int) {
        let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
        logger.error(
            "alert delivery to '\(receiver)' failed after \(tries); dropped \(delivery.alerts) notifications: \(reason)"
        )
        let at = now()
        counters.update(receiver) {
            $0.failed += delivery.alerts
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

import Foundation
import SondaConfig
import SondaCore

/// The dispatcher's senders when it has a store: notifications come from the queue in the
/// database (see `AlertDispatcher`), one claimed at a time, oldest first per receiver.
extension AlertDispatcher {
    /// One receiver's sender with a store: claims its oldest pending notification, posts it, and
    /// records the outcome; idles for `poll` (or until a round is queued) when there is none due.
    func sendQueued(_ receiver: AlertingConfig.Receiver, store: any AggregatorStore) async {
        let name = receiver.name
        let (url, secret) = Self.target(receiver)
        var random = SystemRandomNumberGenerator()
        while !Task.isCancelled, !state.withLock({ $0.draining }) {
            let seen = queuedRounds.withLock { $0 }
            do {
                let at = now()
                let claimFor = (options.requestTimeout + .seconds(5)).milliseconds / 1000
                let claim = try await store.claimNotification(
                    receiver: name, now: at, until: at.addingTimeInterval(claimFor))
                if let claim {
                    try await deliver(claim, to: name, url: url, secret: secret, store: store, random: &random)
                }
                let pending = try await store.pendingNotifications()[name] ?? 0
                counters.update(name) { $0.queued = pending }
                if claim != nil { continue }
            } catch is CancellationError {
                return
            } catch {
                logger.error("alert delivery to '\(name)': the queue in the database failed: \(error)")
            }
            let end = ContinuousClock.now + options.poll
            while ContinuousClock.now < end, !Task.isCancelled, queuedRounds.withLock({ $0 }) == seen {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// One try of a claimed notification, and what it leaves in the store.
    func deliver(
        _ claim: Notification.Claimed, to receiver: String, url: String, secret: String?, store: any AggregatorStore,
        random: inout SystemRandomNumberGenerator
    ) async throws {
        let n = claim.notification
        let at = now()
        if at.timeIntervalSince(n.createdAt) > options.expiry.milliseconds / 1000 {
            let attempts = claim.attempts - 1
            let expiry = DurationParsing.format(options.expiry)
            logger.error(
                "alert delivery to '\(receiver)': \(n.alerts) notifications expired after \(attempts) attempts over \(expiry)"
            )
            try await store.finishNotification(id: claim.id, state: .expired, retryAt: nil, error: "expired", at: at)
            counters.update(receiver) { $0.expired += n.alerts }
            return
        }
        var headers = [Self.deliveryHeader: Self.deliveryID(key: n.key)]
        if let secret {
            headers[WebhookPayload.signatureHeader] = WebhookPayload.signature(body: n.body, secret: secret, at: at)
        }
        let outcome = await DeliveryAttempt.post(
            url, body: n.body, headers: headers, timeout: options.requestTimeout, client: client)
        let done = now()
        // Recorded even when `stop` cancelled the request, so the claim does not hold the
        // notification back from the next start or another replica until it runs out.
        func finish(_ state: Notification.State, retryAt: Date? = nil, error: String? = nil) async throws {
            try await Task {
                try await store.finishNotification(id: claim.id, state: state, retryAt: retryAt, error: error, at: done)
            }.value
        }
        switch outcome {
        case .delivered:
            try await finish(.delivered)
            counters.update(receiver) {
                $0.sent += n.alerts
                $0.lastSuccessAt = done
            }
        case .refused(let reason):
            try await finish(.failed, error: reason)
            failed(n.alerts, receiver, reason: reason, attempts: claim.attempts)
        case .retry(let reason):
            var backoff = options.backoff
            var wait = Duration.zero
            for _ in 0..<claim.attempts { wait = backoff.failed(using: &random) }
            try await finish(.pending, retryAt: done.addingTimeInterval(wait.milliseconds / 1000), error: reason)
            counters.update(receiver) {
                $0.retries += 1
                $0.lastError = reason
                $0.lastErrorAt = done
            }
            logger.debug("alert delivery to '\(receiver)' failed (\(reason)); retrying in \(wait)")
        }
    }
}

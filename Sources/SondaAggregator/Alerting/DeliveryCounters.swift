import Foundation
import Synchronization

/// What each receiver's deliveries came to, for `/metrics` and `GET /v1/alerts`: notifications
/// sent, failed (retries exhausted or refused), dropped (queue full) and expired (retried past
/// the expiry), retries, and the last error with its time. Counted in notifications (alerts), not HTTP requests.
public final class DeliveryCounters: Sendable {
    public struct ReceiverStatus: Sendable, Codable, Hashable {
        public var receiver: String
        /// `alertmanager`, `webhook` or `slack`.
        public var kind: String
        public var sent = 0
        public var failed = 0
        public var dropped = 0
        /// Notifications retried until `AlertDispatcher.Options.expiry` without being delivered.
        public var expired = 0
        /// Requests sent again after a network error, 429 or 5xx.
        public var retries = 0
        /// Notifications waiting to be sent.
        public var queued = 0
        public var lastSuccessAt: Date?
        public var lastError: String?
        public var lastErrorAt: Date?

        public init(receiver: String, kind: String) {
            self.receiver = receiver
            self.kind = kind
        }

        enum CodingKeys: String, CodingKey {
            case receiver, kind, sent, failed, dropped, expired, retries, queued
            case lastSuccessAt = "last_success_at"
            case lastError = "last_error"
            case lastErrorAt = "last_error_at"
        }
    }

    private let state = Mutex([String: ReceiverStatus]())

    public init() {}

    /// One entry per configured receiver, sorted by name.
    public var snapshot: [ReceiverStatus] { state.withLock { $0.values.sorted { $0.receiver < $1.receiver } } }

    func register(_ receiver: String, kind: String) {
        state.withLock { $0[receiver] = $0[receiver] ?? ReceiverStatus(receiver: receiver, kind: kind) }
    }

    func update(_ receiver: String, _ change: (inout ReceiverStatus) -> Void) {
        state.withLock { all in
            guard var status = all[receiver] else { return }
            change(&status)
            all[receiver] = status
        }
    }
}

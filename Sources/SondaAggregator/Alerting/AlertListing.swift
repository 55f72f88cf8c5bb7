import Foundation
import SondaCore

/// What `GET /v1/alerts` lists for one alert.
public struct AlertEntry: Codable, Sendable {
    public var fingerprint: String
    public var labels: [String: String]
    /// firing, silenced, resolved (or pending, when asked for).
    public var state: String
    public var severity: String
    public var startsAt: String
    public var endsAt: String?
    public var summary: String
    public var description: String
    public var lastSent: String?

    enum CodingKeys: String, CodingKey {
        case fingerprint, labels, state, severity, summary, description
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case lastSent = "last_sent"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(labels, forKey: .labels)
        try c.encode(state, forKey: .state)
        try c.encode(severity, forKey: .severity)
        try c.encode(startsAt, forKey: .startsAt)
        try c.encode(endsAt, forKey: .endsAt)
        try c.encode(summary, forKey: .summary)
        try c.encode(description, forKey: .description)
        try c.encode(lastSent, forKey: .lastSent)
    }
}

public struct AlertList: Codable, Sendable {
    public var alerts: [AlertEntry]
    /// How delivery to each configured receiver is going.
    public var receivers: [ReceiverEntry]?
    /// The cursor of the next page, while more remain.
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case alerts, receivers
        case nextCursor = "next_cursor"
    }
}

/// One receiver's delivery counts in `GET /v1/alerts`, so a failing pager shows where alerts are read.
public struct ReceiverEntry: Codable, Sendable {
    public var receiver: String
    public var kind: String
    public var sent: Int
    public var failed: Int
    public var dropped: Int
    /// Retried past the expiry without being delivered (absent from servers before it existed).
    public var expired: Int?
    public var retries: Int
    /// Waiting to be sent: queued in the database, where a restart or another replica finds them.
    public var queued: Int
    public var lastSuccessAt: String?
    public var lastError: String?
    public var lastErrorAt: String?

    init(_ s: DeliveryCounters.ReceiverStatus) {
        (receiver, kind, sent, failed, dropped, expired, retries, queued) =
            (s.receiver, s.kind, s.sent, s.failed, s.dropped, s.expired, s.retries, s.queued)
        lastSuccessAt = s.lastSuccessAt.map(Timestamp.format)
        lastError = s.lastError
        lastErrorAt = s.lastErrorAt.map(Timestamp.format)
    }

    enum CodingKeys: String, CodingKey {
        case receiver, kind, sent, failed, dropped, expired, retries, queued
        case lastSuccessAt = "last_success_at"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
    }
}
public struct SilenceList: Codable, Sendable {
    public var silences: [SilenceEntry]
    /// The cursor of the next page, while more remain.
    public var nextCursor: String?

    public init(silences: [SilenceEntry], nextCursor: String? = nil) {
        self.silences = silences
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case silences
        case nextCursor = "next_cursor"
    }
}

public struct SilenceEntry: Codable, Sendable {
    public var id: String
    public var matchers: [String: String]
    public var startsAt: String
    public var endsAt: String
    public var comment: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, matchers, comment
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case createdAt = "created_at"
    }

    public init(_ s: Silence) {
        (id, matchers, comment) = (s.id, s.matchers, s.comment)
        startsAt = Timestamp.format(s.startsAt)
        endsAt = Timestamp.format(s.endsAt)
        createdAt = Timestamp.format(s.createdAt)
    }
}

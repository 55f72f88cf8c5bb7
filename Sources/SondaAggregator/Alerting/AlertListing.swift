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

public struct AlertList: Codable, Sendable { public var alerts: [AlertEntry] }
public struct SilenceList: Codable, Sendable {
    public var silences: [SilenceEntry]
    public init(silences: [SilenceEntry]) { self.silences = silences }
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

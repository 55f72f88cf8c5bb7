import Foundation

/// Mutes the alerts whose labels match all of `matchers` between `startsAt` and `endsAt`. A
/// silenced alert still goes through its lifecycle (and shows as `silenced` in the API); it is
/// just not handed to the receivers, neither firing nor resolved.
public struct Silence: Sendable, Hashable, Codable {
    public var id: String
    public var matchers: [String: String]
    public var startsAt: Date
    public var endsAt: Date
    public var comment: String
    public var createdAt: Date

    public init(
        id: String = UUID().uuidString.lowercased(), matchers: [String: String], startsAt: Date, endsAt: Date,
        comment: String = "", createdAt: Date? = nil
    ) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.comment = comment
        self.createdAt = createdAt ?? startsAt
    }

    public func isActive(at now: Date) -> Bool { startsAt <= now && now < endsAt }

    /// Ends the silence at `now`; one scheduled later never starts.
    public mutating func expire(at now: Date) {
        startsAt = min(startsAt, now)
        endsAt = now
    }

    public func matches(_ labels: [String: String]) -> Bool {
        !matchers.isEmpty && matchers.allSatisfy { labels[$0.key] == $0.value }
    }
}

import Foundation

/// Which alerts `AggregatorStore.alerts(_:after:limit:)` lists, in one total order a page can
/// resume from: first the live ones (states in `live`) by start, newest first, pending ones (no
/// start yet) last; then, when `resolvedSince` is given, the ones resolved at or after it by end,
/// newest first. Ties break on (active since, fingerprint), descending, so no two alerts share a
/// position.
public struct AlertSelection: Sendable, Hashable {
    public var live: Set<TrackedAlert.State>
    public var resolvedSince: Date?

    public init(live: Set<TrackedAlert.State>, resolvedSince: Date?) {
        self.live = live.subtracting([.resolved])
        self.resolvedSince = resolvedSince
    }

    /// The groups still to read after `position`, in order, each with where to start in it.
    public func groups(after position: AlertPosition?) -> [(group: AlertPosition.Group, after: AlertPosition?)] {
        var groups: [(AlertPosition.Group, AlertPosition?)] = []
        if !live.isEmpty, position == nil || position?.group == .live {
            groups.append((.live, position))
        }
        if resolvedSince != nil {
            groups.append((.resolved, position?.group == .resolved ? position : nil))
        }
        return groups
    }
}

/// An alert's place in `AlertSelection`'s order: a page continues strictly after it.
public struct AlertPosition: Sendable, Hashable {
    public enum Group: String, Sendable { case live, resolved }

    public var group: Group
    /// Live: the start in milliseconds (-1 for a pending alert); resolved: the end.
    public var key: Int64
    public var activeSinceMilliseconds: Int64
    public var fingerprint: String

    public init(group: Group, key: Int64, activeSinceMilliseconds: Int64, fingerprint: String) {
        self.group = group
        self.key = key
        self.activeSinceMilliseconds = activeSinceMilliseconds
        self.fingerprint = fingerprint
    }

    public init(of alert: TrackedAlert) {
        func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        let resolved = alert.state == .resolved
        self.init(
            group: resolved ? .resolved : .live,
            key: (resolved ? alert.endsAt : alert.startsAt).map(ms) ?? -1,
            activeSinceMilliseconds: ms(alert.activeSince), fingerprint: alert.fingerprint)
    }
}

/// A silence's place in the list of silences, soonest ending first, then by id.
public struct SilencePosition: Sendable, Hashable {
    public var endsAtMilliseconds: Int64
    public var id: String

    public init(endsAtMilliseconds: Int64, id: String) {
        self.endsAtMilliseconds = endsAtMilliseconds
        self.id = id
    }

    public init(of silence: Silence) {
        self.init(endsAtMilliseconds: Int64((silence.endsAt.timeIntervalSince1970 * 1000).rounded()), id: silence.id)
    }
}

import Foundation

/// A kind of fault in work that has no caller to throw to: a background task (retention, a WAL
/// checkpoint, rollup compaction) or a step whose failure would otherwise only lose data (a spool
/// write, a result row that no longer decodes). `name` is the `cause` label on `/metrics` and in
/// `/health`.
public struct FaultCause: Hashable, Sendable, Comparable {
    public let name: String
    /// While a fault of this cause persists, `/health` answers 503 instead of 200 "degraded":
    /// for faults that lose data or will stop the process if nobody steps in.
    public let failsHealth: Bool

    public init(_ name: String, failsHealth: Bool = false) {
        self.name = name
        self.failsHealth = failsHealth
    }

    public static func < (a: FaultCause, b: FaultCause) -> Bool { a.name < b.name }
}

/// The faults of each cause: how many there were, and whether one persists (its cause failed and
/// has not succeeded since). A plain value; `FaultLog` guards it and logs its transitions.
public struct FaultLedger: Sendable {
    /// A fault that persists: since when, how often it happened since, and the last message.
    public struct Persisting: Sendable, Equatable {
        public var since: Date
        public var last: Date
        public var occurrences: Int
        public var message: String
    }

    public struct Entry: Sendable, Equatable {
        public var total = 0
        public var persisting: Persisting?
    }

    public private(set) var entries: [FaultCause: Entry] = [:]

    public init(causes: [FaultCause] = []) {
        register(causes)
    }

    /// Counts `causes` from zero (a cause already known keeps its counts).
    public mutating func register(_ causes: [FaultCause]) {
        for cause in causes where entries[cause] == nil { entries[cause] = Entry() }
    }

    /// `occurrences` faults of `cause` at `date`. True when the cause was not failing before: the
    /// occurrence worth logging.
    public mutating func fail(_ cause: FaultCause, message: String, occurrences: Int = 1, at date: Date) -> Bool {
        var entry = entries[cause] ?? Entry()
        entry.total += occurrences
        let first = entry.persisting == nil
        if first {
            entry.persisting = Persisting(since: date, last: date, occurrences: occurrences, message: message)
        } else {
            entry.persisting!.last = date
            entry.persisting!.occurrences += occurrences
            entry.persisting!.message = message
        }
        entries[cause] = entry
        return first
    }

    /// `cause` succeeded: the fault that persisted, if any, which is over now.
    public mutating func succeed(_ cause: FaultCause) -> Persisting? {
        guard let ended = entries[cause]?.persisting else { return nil }
        entries[cause]!.persisting = nil
        return ended
    }
}

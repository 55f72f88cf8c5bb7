import SondaCore

/// When each check × profile runs next. A plain state machine over time offsets from the
/// agent's start, so it is tested without clocks.
///
/// Start times are spread with a deterministic per-agent jitter (a hash of agent, check and
/// profile within the interval), so a fleet does not fire in lock-step and one agent keeps its
/// phase across restarts. A job still in flight when it comes due again is skipped and counted,
/// never queued.
public struct ProbeSchedule: Sendable {
    public struct Job: Hashable, Sendable {
        public var check: String
        public var profile: String
    }

    struct Entry: Sendable {
        var job: Job
        var interval: Duration
        var next: Duration
        var inFlight = false
    }

    private var entries: [Entry]
    /// Jobs a reload removed, while their next slot is ahead: added back, they keep it.
    private var retired: [Job: Entry] = [:]
    public private(set) var skipped = 0

    public init(checks: [CheckSpec], profiles: [String], agentID: String) {
        entries = checks.flatMap { check in
            profiles.map { profile in
                let job = Job(check: check.name, profile: profile)
                return Entry(
                    job: job, interval: check.interval, next: Self.jitter(agentID, job, within: check.interval))
            }
        }
    }

    /// This schedule carried over to a reloaded configuration at `now` (on the same clock). A job it
    /// already has at the same interval keeps its next slot: it may have run moments ago, in the
    /// window just opened. So does a job an earlier reload removed whose next slot is still ahead
    /// (a storm of reloads that drops a check and adds it back). Any other new job takes its first
    /// slot from `now` on; a job whose interval changed, its first slot at the new interval that is
    /// an interval after its last one and not before `now`. (A fresh schedule put every first slot
    /// in the past, so every check ran again at once on every reload.) Skips stay counted.
    public func reloaded(checks: [CheckSpec], profiles: [String], agentID: String, at now: Duration) -> ProbeSchedule {
        var new = ProbeSchedule(checks: checks, profiles: profiles, agentID: agentID)
        new.skipped = skipped
        var previous = retired.filter { $0.value.next > now }
        for entry in entries { previous[entry.job] = entry }
        for index in new.entries.indices {
            let entry = new.entries[index]
            guard let old = previous.removeValue(forKey: entry.job) else {
                new.entries[index].next = Self.slot(entry.next, every: entry.interval, notBefore: now)
                continue
            }
            if old.interval == entry.interval {
                new.entries[index].next = old.next
            } else {
                let notBefore = max(now, old.next - old.interval + entry.interval)
                new.entries[index].next = Self.slot(entry.next, every: entry.interval, notBefore: notBefore)
            }
        }
        new.retired = previous.filter { $0.value.next > now }
        return new
    }

    /// The first of `first`, `first + interval`, … that is not before `time`.
    static func slot(_ first: Duration, every interval: Duration, notBefore time: Duration) -> Duration {
        guard first < time else { return first }
        let step = max(Int64(interval.milliseconds), 1)
        let behind = Int64((time - first).milliseconds.rounded(.up))
        return first + .milliseconds((behind + step - 1) / step * step)
    }

    /// The jobs due at `now`, marked in flight; their next run moves to the next future slot.
    public mutating func due(at now: Duration) -> [Job] {
        var jobs: [Job] = []
        for index in entries.indices where entries[index].next <= now {
            let periods = Int64((now - entries[index].next).milliseconds / entries[index].interval.milliseconds) + 1
            entries[index].next += entries[index].interval * periods
            if entries[index].inFlight {
                skipped += 1
            } else {
                entries[index].inFlight = true
                jobs.append(entries[index].job)
            }
        }
        return jobs
    }

    public mutating func finished(_ job: Job) {
        if let index = entries.firstIndex(where: { $0.job == job }) { entries[index].inFlight = false }
    }

    /// Marks a job in flight that started before this schedule existed (under the configuration a
    /// reload replaced), so it is skipped, not started twice, until it finishes.
    public mutating func markInFlight(_ job: Job) {
        if let index = entries.firstIndex(where: { $0.job == job }) { entries[index].inFlight = true }
    }

    /// When the earliest job comes due; nil with nothing scheduled.
    public var nextDue: Duration? {
        var earliest: Duration?
        for entry in entries where earliest == nil || entry.next < earliest! { earliest = entry.next }
        return earliest
    }

    public var jobCount: Int { entries.count }

    /// A stable offset in [0, interval) from FNV-1a over the agent, check and profile names.
    static func jitter(_ agentID: String, _ job: Job, within interval: Duration) -> Duration {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(agentID)/\(job.check)/\(job.profile)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let milliseconds = max(Int64(interval.milliseconds), 1)
        return .milliseconds(Int64(hash % UInt64(milliseconds)))
    }
}

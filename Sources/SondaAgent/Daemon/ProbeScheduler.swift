import Foundation
import Logging
import ServiceLifecycle
import SondaConfig
import SondaCore
import SondaProbe

/// Runs every check × profile at its interval and puts each result in the spool. A slow or hung
/// target delays nothing else: each probe has its own deadline and a job still in flight is skipped
/// and counted. On graceful shutdown it starts nothing new and waits for the probes in flight;
/// `reload` swaps in a new configuration.
///
/// Plain threads, not Swift tasks, and no timer thread: the scheduler's clock is cut into windows
/// (`window(for:)`) and idle workers sleep on one alarm (`SchedulerAlarm`) armed for the opening
/// of the window that holds the next due job. The kernel wakes one of them, which queues the jobs
/// due in that window and runs them one after another: each probe, its retries, the spool append
/// and the metrics, with no hand-off. While jobs wait behind it the alarm is armed `patience`
/// ahead, so when that worker has spent that long on one probe another wakes and takes the next
/// job: a slow target delays the jobs behind it by that much at most.
///
/// A probe on loopback costs about 0.1 ms of CPU, so every thread hop, actor hop and task
/// allocation on this path was a measurable share of the agent's cost (the version on a task group
/// and an actor paid about 12 context switches per probe; a timer thread waking a worker, two a
/// window), and so is the cold start of a probe after the agent has slept: running the jobs of a
/// window back to back pays it once for several.
public final class ProbeScheduler: Service, @unchecked Sendable {
    /// A job with everything its worker needs, made once per configuration (a class, so handing
    /// it to a worker copies a reference, not a check).
    private final class Work: Sendable {
        let job: ProbeSchedule.Job
        let check: CheckSpec
        let profile: NetworkProfile?
        let redactor: SecretRedactor
        let agentID: String
        let region: String

        init(_ job: ProbeSchedule.Job, check: CheckSpec, in config: AgentConfig) {
            self.job = job
            self.check = check
            profile = config.profiles.first { $0.name == job.profile }
            redactor = config.redactor
            agentID = config.id
            region = config.region
        }

        static func all(in config: AgentConfig) -> [ProbeSchedule.Job: Work] {
            var works: [ProbeSchedule.Job: Work] = [:]
            for check in config.checks {
                for profile in config.profiles {
                    let job = ProbeSchedule.Job(check: check.name, profile: profile.name)
                    works[job] = Work(job, check: check, in: config)
                }
            }
            return works
        }
    }

    private let lock = SchedulerLock()
    private let alarm = SchedulerAlarm()
    private let workerCount: Int
    private let spool: ResultSpool
    private let metrics: AgentMetrics
    private let logger: Logger
    private let started = SchedulerLock.now

    // Guarded by `lock`.
    private var config: AgentConfig
    private var schedule: ProbeSchedule
    /// `schedule.nextDue`, which scans every job: read on each job taken, changed only by `due`.
    private var nextDue: Duration?
    private var works: [ProbeSchedule.Job: Work]
    /// Due jobs and when they were queued (on the scheduler's clock).
    private var queue: [(work: Work, queuedAt: Duration)] = []
    private var inFlight: Set<ProbeSchedule.Job> = []
    private var stopping = false
    /// When a job last left the queue.
    private var queueProgress = Duration.zero
    /// The alarm's deadline (on the scheduler's clock) as last armed; nil once it may have rung.
    private var armed: Duration?
    /// The jobs due within one window of this width run at its opening, one after another on one
    /// worker: one wake-up and warm caches for several probes instead of a cold start for each.
    private var window: Duration
    private var reportedSkipped = -1
    private var reportedAt = Duration.zero
    private var liveThreads = 0
    private var stopped: CheckedContinuation<Void, Never>?
    private var abandoned = false

    public init(config: AgentConfig, workers: Int, spool: ResultSpool, metrics: AgentMetrics, logger: Logger) {
        precondition(workers > 0)
        self.config = config
        self.schedule = Self.schedule(for: config)
        self.nextDue = schedule.nextDue
        self.works = Work.all(in: config)
        self.window = Self.window(for: config)
        self.workerCount = workers
        self.spool = spool
        self.metrics = metrics
        self.logger = logger
    }

    /// How long a queued job may wait for a busy worker before another takes it: what a slow or
    /// hung target can delay the start of the jobs behind it.
    static let patience = Duration.milliseconds(20)

    /// The longest a worker holds results before spooling them: it spools a window's results
    /// together once the window is done, so its probes run back to back like the C loop's, with
    /// one write, and a crash loses at most this much of results not yet written.
    static let holding = Duration.milliseconds(100)

    /// The longest the workers sleep with nothing due: an idle agent wakes this rarely.
    static let heartbeat = Duration.seconds(10)

    /// A fifth of the shortest interval, at most 2 s: about ten probes a wake-up with 50 checks
    /// every 10 s (a tenth, five a wake-up, cost 14 % more CPU per plain HTTP probe and 4 % more
    /// per HTTPS probe in bench/agent-daemon.sh). A job starts up to this much before its slot.
    static func window(for config: AgentConfig) -> Duration {
        max(.milliseconds(1), min(.seconds(2), (config.checks.map(\.interval).min() ?? .seconds(10)) / 5))
    }

    /// When the window holding `time` (never negative) opens. Windows are fixed on the scheduler's
    /// clock (not opened by whichever job comes due first), so a job whose interval is a multiple
    /// of the window starts at the same point of its window every round: exactly its interval apart.
    static func opening(of time: Duration, window: Duration) -> Duration {
        let width = window.nanoseconds
        return .nanoseconds(time.nanoseconds / width * width)
    }

    static func schedule(for config: AgentConfig) -> ProbeSchedule {
        ProbeSchedule(checks: config.checks, profiles: config.profiles.map(\.name), agentID: config.id)
    }

    public func run() async throws {
        logger.info(
            "scheduling \(schedule.jobCount) jobs (\(config.checks.count) checks × \(config.profiles.count) profiles)")
        lock.lock()
        liveThreads = workerCount
        lock.unlock()
        for index in 0..<workerCount {
            // libcurl and OpenSSL want more stack than a thread's default minimum.
            startThread("sonda-probe-\(index)", stackSize: 1 << 20) {
                self.work()
                self.threadExited()
            }
        }
        try? await gracefulShutdown()
        logger.info("draining probes in flight")
        // Cancelled (the grace is over): stop waiting; the workers finish on their own.
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                lock.lock()
                stopping = true
                // Jobs not started yet are dropped; they run again at their next slot after a restart.
                for entry in queue { finish(entry.work.job) }
                queue.removeAll()
                if liveThreads == 0 || abandoned {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                stopped = continuation
                alarm.stop()
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            abandoned = true
            let waiting = stopped
            stopped = nil
            lock.unlock()
            waiting?.resume()
        }
    }

    /// True once a shutdown stopped waiting for probes in flight (its grace ran out).
    public var abandonedProbes: Bool {
        lock.lock()
        defer { lock.unlock() }
        return abandoned && liveThreads > 0
    }

    /// Whether nothing is queued or running and no job comes due within `span`.
    public func isIdle(for span: Duration) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard queue.isEmpty, inFlight.isEmpty else { return false }
        guard let next = nextDue else { return true }
        return next - .nanoseconds(SchedulerLock.now - started) >= span
    }

    /// Replaces the configuration; jobs in flight finish under the old one and are not started
    /// again under the new one until they have.
    public func reload(_ new: AgentConfig) {
        lock.lock()
        config = new
        let now = Duration.nanoseconds(SchedulerLock.now - started)
        schedule = schedule.reloaded(
            checks: new.checks, profiles: new.profiles.map(\.name), agentID: new.id, at: now)
        nextDue = schedule.nextDue
        works = Work.all(in: new)
        window = Self.window(for: new)
        for job in inFlight { schedule.markInFlight(job) }
        rearm(at: .zero)
        lock.unlock()
        metrics.forget(exceptChecks: Set(new.checks.map(\.name)))
        logger.info("reloaded: \(new.checks.count) checks × \(new.profiles.count) profiles")
    }

    /// A worker thread: runs queued jobs on its own easy handle, queues due ones, and otherwise
    /// sleeps on the alarm, until shutdown.
    private func work() {
        let runner = ProbeRunner()
        lock.lock()
        defer { lock.unlock() }
        // This worker has just run a job from the queue: it runs the next one too.
        var runsQueue = false
        // Results of this worker's window not yet kept, and when the oldest finished.
        var held: [ProbeResult] = []
        var heldSince = Duration.zero
        /// With the lock released.
        func keepHeld() {
            keep(held)
            held.removeAll(keepingCapacity: true)
        }
        while true {
            if stopping {
                if held.isEmpty { return }
                lock.unlock()
                keepHeld()
                lock.lock()
                return
            }
            let now = Duration.nanoseconds(SchedulerLock.now - started)
            let wasEmpty = queue.isEmpty
            // The window holding the earliest due job is open: queue the jobs due by its end
            // (by the end of the current one, if this worker comes late).
            if let next = nextDue, Self.opening(of: next, window: window) <= now {
                defer { nextDue = schedule.nextDue }
                let closes = Self.opening(of: now, window: window) + window - .nanoseconds(1)
                for job in schedule.due(at: closes) {
                    guard let work = works[job] else {
                        schedule.finished(job)
                        continue
                    }
                    inFlight.insert(job)
                    queue.append((work, now))
                }
            }
            // What /health and the skipped counter read; once a second is enough for both.
            let skipped = schedule.skipped
            let report = skipped != reportedSkipped || now - reportedAt >= .seconds(1)
            if report {
                reportedSkipped = skipped
                reportedAt = now
            }
            // A new batch, or one whose worker has been on one probe too long.
            if !queue.isEmpty && (runsQueue || wasEmpty || now - queueProgress >= Self.patience) {
                let (work, queuedAt) = queue.removeFirst()
                queueProgress = now
                // While this worker probes, another wakes for the next due jobs, or for the queued
                // ones if this probe takes longer than `patience`.
                rearm(atLatest: nextWake(now))
                lock.unlock()
                if report { metrics.scheduled(skipped: skipped) }
                metrics.waited(seconds: (now - queuedAt).intervalSeconds)
                if !held.isEmpty && now - heldSince >= Self.holding { keepHeld() }
                let results = execute(work, on: runner)
                if held.isEmpty { heldSince = .nanoseconds(SchedulerLock.now - started) }
                held += results
                lock.lock()
                finish(work.job)
                runsQueue = true
                continue
            }
            runsQueue = false
            if !held.isEmpty {
                lock.unlock()
                keepHeld()
                lock.lock()
                continue
            }
            rearm(at: max(nextWake(now), now))
            lock.unlock()
            if report { metrics.scheduled(skipped: skipped) }
            alarm.wait()
            lock.lock()
            armed = nil
        }
    }

    /// With the lock held: when the window of the next due job opens (at most `heartbeat` away),
    /// or, while jobs wait behind a busy worker, when it has been on its probe for `patience`.
    private func nextWake(_ now: Duration) -> Duration {
        let opens = nextDue.map { Self.opening(of: $0, window: window) }
        let wake = min(opens ?? now + Self.heartbeat, now + Self.heartbeat)
        return queue.isEmpty ? wake : min(wake, queueProgress + Self.patience)
    }

    /// With the lock held: the alarm rings at `deadline`.
    private func rearm(at deadline: Duration) {
        guard armed != deadline else { return }
        alarm.arm(at: started + deadline.nanoseconds)
        armed = deadline
    }

    /// With the lock held: the alarm rings at `deadline` or earlier. A ring that comes early costs
    /// a worker a look at the queue; moving the deadline for every job would cost a system call each.
    private func rearm(atLatest deadline: Duration) {
        if let armed, armed <= deadline { return }
        rearm(at: deadline)
    }

    /// With the lock held.
    private func finish(_ job: ProbeSchedule.Job) {
        inFlight.remove(job)
        schedule.finished(job)
    }

    private func threadExited() {
        lock.lock()
        liveThreads -= 1
        let last = liveThreads == 0 ? stopped : nil
        if last != nil { stopped = nil }
        lock.unlock()
        last?.resume()
    }

    private func execute(_ work: Work, on runner: ProbeRunner) -> [ProbeResult] {
        let check = work.check
        var results = ProbeAttempts.run(retries: check.retries) { attempt in
            if attempt > 1 { logger.notice("\(check.name) [\(work.job.profile)] retrying (attempt \(attempt))") }
            return runner.run(check, redactor: work.redactor, profile: work.profile)
        }
        for index in results.indices {
            results[index].profile = work.job.profile
            results[index].agent = work.agentID
            results[index].region = work.region
        }
        return results
    }

    /// Spools a worker's results and records them in the metrics. Results the spool cannot write
    /// are lost: they are counted, and the fault is logged once and shown by `/health` until a
    /// write succeeds again.
    private func keep(_ results: [ProbeResult]) {
        do {
            let dropped = try spool.append(results)
            metrics.faults.recovered(.spoolWrite)
            if dropped > 0 {
                let made =
                    "disk full: dropped the \(dropped) oldest spooled results to make room (sonda_spool_dropped_total)"
                metrics.faults.record(.spoolDiskFull, made, occurrences: dropped)
            }
        } catch {
            let unwritten = (error as? SpoolError)?.unwrittenResults ?? results.count
            metrics.unwritten(unwritten)
            metrics.faults.record(.spoolWrite, "cannot spool results, \(unwritten) lost: \(error)")
        }
        results.forEach(metrics.record)
    }
}

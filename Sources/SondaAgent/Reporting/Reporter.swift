import Foundation
import Logging
import ServiceLifecycle
import SondaCore
import SondaProbe

/// Sends the spool's batches to the aggregator, signed; deletes a batch only after a 200;
/// fails over between several aggregators (`AggregatorLink`) and backs off with jitter while none
/// answers; sends a heartbeat alone each minute when there is nothing else to send. A batch the
/// aggregator refuses for good (400, 413) does not stop it: it is split or set aside in the
/// spool's quarantine, and the next batch goes (`Reporter+Delivery.swift`). On graceful shutdown it
/// makes one last attempt to flush.
///
/// A plain thread with its own easy handle, like the scheduler's workers, not a task: a task
/// sleeping between batches needs libdispatch's timers, whose thread then wakes every second for
/// the rest of the process's life (see `TaskThread`), and it hopped to a probe thread for each
/// send. Together that cost as much CPU as the scheduler at 5 probes a second.
public final class Reporter: Service, @unchecked Sendable {
    let signer: BatchSigner
    let spool: ResultSpool
    let metrics: AgentMetrics
    let logger: Logger
    private let whenDrained: @Sendable () -> Void
    static let heartbeatInterval = Duration.seconds(60)

    private let lock = SchedulerLock()
    private let wakeup: SchedulerLock.Condition
    // Guarded by `lock`.
    private var configDigest: String
    private var stopping = false
    /// The spool got results since the reporter last looked.
    private var nudged = false
    private var cancelled = false
    private var exited = false
    private var finished: CheckedContinuation<Void, Never>?

    // The reporter thread's own.
    var link: AggregatorLink
    /// A batch whose delivery a failure interrupted, resumed where it stopped.
    var unfinished: BatchDelivery?
    private var backoff = Backoff()
    private var lastSent = ContinuousClock.now
    private var generator = SystemRandomNumberGenerator()

    /// `aggregatorURLs` (at least one) are tried in turn, starting with the one that answered last.
    public init(
        aggregatorURLs: [String], caFile: String?, signer: BatchSigner, spool: ResultSpool, metrics: AgentMetrics,
        configHash: String, logger: Logger, whenDrained: @escaping @Sendable () -> Void = {}
    ) {
        link = AggregatorLink(urls: aggregatorURLs, caFile: caFile, logger: logger)
        self.signer = signer
        self.spool = spool
        self.metrics = metrics
        configDigest = configHash
        self.logger = logger
        self.whenDrained = whenDrained
        wakeup = SchedulerLock.Condition(lock)
        spool.onNews { [weak self] in self?.nudge() }
        metrics.quarantined(results: spool.quarantinedTotal, batches: spool.quarantinedBatches)
    }

    /// What the heartbeats say of the configuration: `ConfigDigest` of the one running now.
    public var configHash: String {
        get {
            lock.lock()
            defer { lock.unlock() }
            return configDigest
        }
        set {
            lock.lock()
            configDigest = newValue
            lock.unlock()
        }
    }

    private func nudge() {
        lock.lock()
        nudged = true
        wakeup.signal()
        lock.unlock()
    }

    public func run() async throws {
        startThread("sonda-reporter", stackSize: 1 << 20) { self.loop() }
        try? await gracefulShutdown()
        // Cancelled (the grace is over): stop waiting; a send in flight ends at its timeout.
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                lock.lock()
                stopping = true
                if exited || cancelled {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                finished = continuation
                wakeup.signal()
                lock.unlock()
            }
        } onCancel: {
            end(cancelled: true)
        }
    }

    /// The thread exited, or `run` stopped waiting for it: either way `run` returns.
    private func end(cancelled: Bool) {
        lock.lock()
        if cancelled { self.cancelled = true } else { exited = true }
        let waiting = finished
        finished = nil
        lock.unlock()
        waiting?.resume()
    }

    private func loop() {
        sendUntilStopped()
        // Only now may `run` return and the process exit: the runner (its easy handle and TLS
        // state) was released on the way out of `sendUntilStopped`. Released after this signal, it
        // raced OpenSSL's exit handlers (ci33: SIGSEGV in libcrypto on this thread after "stopped").
        end(cancelled: false)
    }

    private func sendUntilStopped() {
        let runner = ProbeRunner()
        while !isStopping {
            let wait = step(force: false, on: runner)
            // After a failure the wait is a backoff: the spool's news (a new batch) does not cut it
            // short, or a busy agent would retry at every batch while no aggregator answers.
            let patient = backoff.failures > 0
            let deadline = SchedulerLock.now + wait.nanoseconds
            lock.lock()
            while !stopping && (patient || !nudged) && SchedulerLock.now < deadline { wakeup.wait(until: deadline) }
            nudged = false
            lock.unlock()
        }
        // Last chance before exit: whatever is spooled, sealed now; what fails stays spooled.
        while !isCancelled, (try? spool.nextBatch(force: true)) != nil {
            if step(force: true, timeout: .exiting, on: runner) > .zero { break }
        }
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    private var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    /// Sends one batch if there is one; returns how long to wait before the next step.
    private func step(force: Bool, timeout: UploadTimeout = .running, on runner: ProbeRunner) -> Duration {
        let batch: SpoolBatch?
        do {
            batch = try spool.nextBatch(force: force)
            metrics.faults.recovered(.spoolRead)
        } catch {
            metrics.faults.record(.spoolRead, "\(error)")
            return .seconds(1)
        }
        let idle = ContinuousClock.now - lastSent
        guard batch != nil || idle >= Self.heartbeatInterval else {
            // Sleep until the open batch file is due to be sealed, never past the next heartbeat; with
            // nothing spooled, until the spool's news (`onNews`) nudges. One wake-up per batch: on a
            // busy agent polling was a sixth of the CPU, and an idle agent's only wake-up a second.
            return min(spool.timeUntilSealDue ?? Self.heartbeatInterval, Self.heartbeatInterval - idle)
        }
        let failure: Failure?
        if let batch {
            failure = deliver(batch, timeout: timeout, on: runner)
        } else {
            failure = sendHeartbeat(timeout: timeout, on: runner)
        }
        guard let failure else {
            backoff.succeeded()
            // A batch left the spool: its disk has room again.
            if batch != nil { metrics.faults.recovered(.spoolDiskFull) }
            lastSent = ContinuousClock.now
            if spool.depth == 0 { whenDrained() }
            return .zero
        }
        let wait = backoff.failed(using: &generator)
        let failed = "sending \(failure.results) results failed (\(failure.reason))"
        logger.warning("\(failed); retrying in \(DurationParsing.format(wait))")
        return wait
    }

    /// The batch as JSON with the spooled results spliced in as they are, so results are never
    /// decoded and encoded again on their way out. With sorted keys and no results, `"results":[]`
    /// appears once, as the key (a string value containing it would have its quotes escaped).
    static func body(_ batch: ResultBatch, objects: [UInt8]) throws -> [UInt8] {
        let frame = Array(try ResultJSON.encoder().encode(batch))
        let marker = Array(#""results":[]"#.utf8)
        // A plain scan: the generic `firstRange(of:)` cost more than encoding the frame.
        guard
            let at = frame.indices.first(where: {
                frame[$0] == marker[0] && frame[$0...].starts(with: marker)
            })
        else { return frame }
        let split = at + marker.count - 1
        var body: [UInt8] = []
        body.reserveCapacity(frame.count + objects.count)
        body.append(contentsOf: frame[..<split])
        body.append(contentsOf: objects)
        body.append(contentsOf: frame[split...])
        return body
    }

}

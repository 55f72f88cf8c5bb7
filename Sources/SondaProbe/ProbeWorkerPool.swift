import Foundation
import SondaCore

/// A small set of dedicated threads that run probes. libcurl blocks, so probes never run on the
/// Swift concurrency pool; each worker keeps one easy handle (and its parsed CA store) for its life.
/// The workers keep the pool alive until `shutdown()`.
public final class ProbeWorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [(CurlEasy) -> Void] = []
    private var stopping = false
    /// Workers that have not yet released their easy handle.
    private var running: Int

    public init(workers: Int = 2) {
        precondition(workers > 0)
        running = workers
        for index in 0..<workers {
            startThread("sonda-probe-\(index)", stackSize: 1 << 20) { self.work() }
        }
    }

    /// Stops the workers once the queued probes have run, and returns when every worker has
    /// released its easy handle. A process may exit then: exiting while a worker still frees its
    /// connections (OpenSSL's locks, torn down by exit) crashed `sonda-agent probe` about once in
    /// 20 runs of the release build.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Workers still holding their easy handle (0 once `shutdown` has returned).
    public var runningWorkers: Int {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    public func probe(_ request: ProbeRequest) async -> ProbeResult {
        await withCheckedContinuation { continuation in
            submit { easy in continuation.resume(returning: request.run(on: easy)) }
        }
    }

    /// Runs `body` on one worker, which may probe several times in a row without a thread hand-off
    /// per probe (the cheapest way to run a sequence, as `sonda-agent probe --count` does).
    public func withWorker<T: Sendable>(_ body: @escaping @Sendable (ProbeRunner) -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { easy in continuation.resume(returning: body(ProbeRunner(easy: easy))) }
        }
    }

    private func submit(_ job: @escaping (CurlEasy) -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        serve(CurlEasy())  // released (curl_easy_cleanup) when `serve` returns
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func serve(_ easy: CurlEasy) {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job(easy)
        }
    }
}

/// A worker's easy handle, lent to a `withWorker` body; use it only inside that body.
public struct ProbeRunner {
    let easy: CurlEasy

    init(easy: CurlEasy) { self.easy = easy }

    /// A runner with an easy handle of its own, for a thread that runs probes itself (the daemon's
    /// workers); like the handle, use it on that one thread only.
    public init() { easy = CurlEasy() }

    public func probe(_ request: ProbeRequest) -> ProbeResult { request.run(on: easy) }
}

extension ProbeRequest {
    /// Runs the probe on `easy` with the prober for its kind.
    func run(on easy: CurlEasy) -> ProbeResult {
        if case .tcp = kind { return TCPProber.run(self, on: easy) }
        return HTTPProber.run(self, on: easy)
    }
}

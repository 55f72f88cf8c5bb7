import CSondaSystem
import SondaCore

/// Runs the agent's Swift tasks on one plain thread, in place of Swift's global executor.
///
/// The daemon's services are async only to wait: for signals, for shutdown; the work runs on the
/// scheduler's, the reporter's and the listener's own threads. On the default executor their
/// first job starts a libdispatch worker, and with it libdispatch's workqueue monitor, a timer
/// that wakes a thread every second for the rest of the process's life: about a twentieth of the
/// agent's CPU at 5 probes a second (bench/agent-daemon.sh), and an idle agent never idle.
/// Delayed jobs (`Task.sleep`) still go to libdispatch; the daemon sleeps on its threads instead.
///
/// The hook is the runtime's `swift_task_enqueueGlobal_hook`, which SwiftNIO sets the same way.
/// Swift's `ExecutorFactory` (`typealias DefaultExecutorFactory` in `@main`) is the public way to
/// do this, but in the 6.3.1 toolchain it is still SPI (`@_spi(ExperimentalCustomExecutors)` in
/// `_Concurrency`'s interface), so the hook stays until a release makes the factory public.
public final class TaskThread: SerialExecutor, @unchecked Sendable {
    private let lock = SchedulerLock()
    private let wakeup: SchedulerLock.Condition
    private var jobs: [UnownedJob] = []

    private init(name: String) {
        wakeup = SchedulerLock.Condition(lock)
        startThread(name, stackSize: 1 << 20) { self.run() }
    }

    /// Sends every job for the global executor to a new thread named `name`, as SwiftNIO's
    /// `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor` does with its event
    /// loops; call it once, first thing in `main`. False if another hook was installed first.
    @discardableResult
    public static func installAsGlobalExecutor(name: String) -> Bool {
        global = TaskThread(name: name)
        typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let hook: Hook = { job, _ in TaskThread.global?.add(job) }
        return withUnsafeBytes(of: hook) { sonda_set_global_enqueue_hook($0.load(as: UnsafeRawPointer.self)) == 1 }
    }

    nonisolated(unsafe) private static var global: TaskThread?

    public func enqueue(_ job: consuming ExecutorJob) {
        add(UnownedJob(job))
    }

    private func add(_ job: UnownedJob) {
        lock.lock()
        jobs.append(job)
        wakeup.signal()
        lock.unlock()
    }

    private func run() {
        var running: [UnownedJob] = []
        while true {
            lock.lock()
            while jobs.isEmpty { wakeup.wait() }
            swap(&running, &jobs)
            lock.unlock()
            for job in running { job.runSynchronously(on: asUnownedSerialExecutor()) }
            running.removeAll(keepingCapacity: true)
        }
    }
}

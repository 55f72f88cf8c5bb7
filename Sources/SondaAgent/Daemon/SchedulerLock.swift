#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One mutex with two condition variables on the monotonic clock: the scheduler's timer thread
/// sleeps on `timer` until the next job is due, idle probe workers sleep on `work`. Timed waits
/// use CLOCK_MONOTONIC, so a wall-clock step (NTP, a laptop waking) never stalls the schedule.
final class SchedulerLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let timer = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(timer, &attributes)
        pthread_cond_init(work, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(work)
        pthread_cond_destroy(timer)
        pthread_mutex_destroy(mutex)
        work.deallocate()
        timer.deallocate()
        mutex.deallocate()
    }

    /// Nanoseconds on the monotonic clock.
    static var now: Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// With the lock held: sleeps until woken or until `deadline` (monotonic nanoseconds).
    func waitForTimer(until deadline: Int64) {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(timer, mutex, &time)
    }

    func wakeTimer() { pthread_cond_signal(timer) }

    /// With the lock held: sleeps until a worker is woken.
    func waitForWork() { pthread_cond_wait(work, mutex) }

    func wakeWorker() { pthread_cond_signal(work) }
    func wakeAllWorkers() { pthread_cond_broadcast(work) }
}

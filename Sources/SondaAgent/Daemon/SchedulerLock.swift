import CSondaSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The scheduler's mutex, and condition variables on it that wait on the monotonic clock, so a
/// wall-clock step (NTP, a laptop waking) never stalls the schedule.
final class SchedulerLock: @unchecked Sendable {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
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

    /// A condition variable to wait on with this lock held.
    final class Condition: @unchecked Sendable {
        private let lock: SchedulerLock
        private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        init(_ lock: SchedulerLock) {
            self.lock = lock
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(condition, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        deinit {
            pthread_cond_destroy(condition)
            condition.deallocate()
        }

        /// Sleeps until signalled (or spuriously woken: callers re-check their state).
        func wait() { pthread_cond_wait(condition, lock.mutex) }

        /// Sleeps until signalled or until `deadline` (monotonic nanoseconds).
        func wait(until deadline: Int64) {
            var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            pthread_cond_timedwait(condition, lock.mutex, &time)
        }

        func signal() { pthread_cond_signal(condition) }
    }
}

/// The scheduler thread's sleep, on a timerfd: it arms its next deadline and blocks; another thread
/// moves the deadline (with the scheduler's lock held) without waking it, or rings it to wake it
/// now. On a condition variable a deadline can only be cut short by waking the sleeper: the check
/// 20 ms after each batch that its worker is not stuck cost a wake-up a window, nearly always for
/// nothing. Now the worker that empties the queue takes that check back.
final class SchedulerAlarm: @unchecked Sendable {
    private let fd = sonda_timer_create()

    init() { precondition(fd >= 0, "timerfd_create: \(String(cString: strerror(errno)))") }

    deinit { close(fd) }

    /// Wakes the sleeper at `deadline` (monotonic nanoseconds; past deadlines at once), instead of
    /// at the deadline armed before.
    func arm(at deadline: Int64) { sonda_timer_arm(fd, max(deadline, 1)) }

    /// Wakes the sleeper now, or at once when it next sleeps.
    func ring() { arm(at: 1) }

    /// Sleeps until the armed deadline.
    func wait() { sonda_timer_wait(fd) }
}

extension Duration {
    /// For deadlines on `SchedulerLock.now`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

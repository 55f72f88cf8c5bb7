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

/// Where the scheduler's idle workers sleep: a timerfd that every one of them waits on (through
/// one epoll set), so the kernel wakes one worker when the next jobs are due and that worker runs
/// them. A timer thread that woke a worker cost two wake-ups a window. Moving the deadline (with the
/// scheduler's lock held) wakes no one; a deadline in the past wakes one worker now; `stop` wakes
/// all of them for good.
final class SchedulerAlarm: @unchecked Sendable {
    private let timer: Int32
    private let stopper: Int32
    private let poller: Int32

    init() {
        var fds: [Int32] = [-1, -1, -1]
        let opened = sonda_alarm_open(&fds)
        precondition(opened == 0, "scheduler alarm (timerfd, eventfd, epoll): \(String(cString: strerror(errno)))")
        (timer, stopper, poller) = (fds[0], fds[1], fds[2])
    }

    deinit {
        close(timer)
        close(stopper)
        close(poller)
    }

    /// Wakes one sleeper at `deadline` (monotonic nanoseconds; past deadlines at once), instead of
    /// at the deadline armed before.
    func arm(at deadline: Int64) { sonda_timer_arm(timer, max(deadline, 1)) }

    /// Wakes every sleeper, and makes every later `wait` return at once.
    func stop() { sonda_alarm_stop(stopper) }

    /// Sleeps until the armed deadline or `stop` (or spuriously: callers re-check their state).
    func wait() { sonda_alarm_wait(poller) }
}

extension Duration {
    /// For deadlines on `SchedulerLock.now`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

import Foundation
import Synchronization

/// How late this machine wakes a sleeping thread, measured beside a timing test: a thread sleeps
/// to absolute deadlines every `period` and records how late each wake-up was. A test that bounds
/// how far a process's timers move adds the worst lateness seen in the same window, so the bound
/// keeps its meaning on a quiet machine (a millisecond or two is added) and does not fail because
/// other work held both cores (tens of milliseconds, which no process of ours caused).
public final class SchedulerNoise: Sendable {
    private let lateness = Mutex<[Double]>([])
    private let running = Atomic<Bool>(true)

    public init(period: Duration = .milliseconds(5)) {
        let nanoseconds =
            Int(period.components.seconds) * 1_000_000_000 + Int(period.components.attoseconds / 1_000_000_000)
        let thread = Thread { [self] in
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            while running.load(ordering: .relaxed) {
                deadline.tv_nsec += nanoseconds
                deadline.tv_sec += deadline.tv_nsec / 1_000_000_000
                deadline.tv_nsec %= 1_000_000_000
                while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                let late = Double(now.tv_sec - deadline.tv_sec) * 1000 + Double(now.tv_nsec - deadline.tv_nsec) / 1e6
                lateness.withLock { $0.append(late) }
                // After a long stall, measure from now on rather than catch up in a burst.
                if late > 1 { deadline = now }
            }
        }
        thread.name = "scheduler-noise"
        thread.start()
    }

    /// Stops sampling (the thread ends at its next wake-up) and returns what it measured.
    public func stop() -> Lateness {
        running.store(false, ordering: .relaxed)
        return Lateness(milliseconds: lateness.withLock { $0 }.sorted())
    }

    public struct Lateness: Sendable, CustomStringConvertible {
        /// Every wake-up's lateness in milliseconds, sorted.
        public let milliseconds: [Double]
        public var worst: Double { milliseconds.last ?? 0 }
        public var median: Double { milliseconds.isEmpty ? 0 : milliseconds[milliseconds.count / 2] }

        public var description: String {
            "scheduler lateness: median \(Self.format(median)) ms, worst \(Self.format(worst)) ms "
                + "over \(milliseconds.count) wake-ups"
        }

        private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
    }
}

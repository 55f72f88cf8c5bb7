import Foundation
import Synchronization

/// The time of day the agent stamps results, batches and signatures with: the system's clock,
/// unless a fault-injection test has shifted it to play an agent whose clock is wrong
/// (`sonda-agent run` honours `SONDA_TEST_CLOCK_OFFSET_SECONDS` only when `SONDA_TEST_FAULTS=1`;
/// see docs/reliability.md). Durations are measured on monotonic clocks and never shifted.
public enum WallClock {
    private static let offsetMilliseconds = Atomic<Int64>(0)

    public static var now: Date {
        let offset = offsetMilliseconds.load(ordering: .relaxed)
        return offset == 0 ? Date() : Date(timeIntervalSinceNow: Double(offset) / 1000)
    }

    /// How far `now` is from the system clock.
    public static var offset: Duration { .milliseconds(offsetMilliseconds.load(ordering: .relaxed)) }

    /// Shifts `now` by `offset` from the system clock, for the whole process. For tests only.
    public static func shift(by offset: Duration) {
        let (seconds, attoseconds) = offset.components
        offsetMilliseconds.store(seconds * 1000 + attoseconds / 1_000_000_000_000_000, ordering: .relaxed)
    }
}

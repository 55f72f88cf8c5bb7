import Foundation

/// Faults the agent lets a test inject, so a fault scenario runs the real binary (docs/reliability.md).
/// Honoured only when `SONDA_TEST_FAULTS=1` is also set, so a stray variable on a host changes nothing.
public enum TestFaults {
    /// `SONDA_TEST_CLOCK_OFFSET_SECONDS` (a whole number, negative for a slow clock): shifts the clock
    /// results and signatures are stamped with (`WallClock`), to play a host whose clock is wrong.
    public static func clockOffset(_ environment: [String: String]) -> Duration? {
        guard environment["SONDA_TEST_FAULTS"] == "1",
            let text = environment["SONDA_TEST_CLOCK_OFFSET_SECONDS"], let seconds = Int64(text), seconds != 0
        else { return nil }
        return .seconds(seconds)
    }
}

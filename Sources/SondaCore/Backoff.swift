/// Exponential backoff with jitter for re-sending batches and alert notifications: bounds of 1 s,
/// 2 s, 4 s … up to a cap, each wait drawn between half the bound and the bound, so a recovering
/// server is not hit by every sender at once.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    public private(set) var failures = 0

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(60)) {
        self.base = base
        self.cap = cap
    }

    /// Records a failure and returns how long to wait before the next attempt.
    public mutating func failed(using generator: inout some RandomNumberGenerator) -> Duration {
        failures += 1
        let bound = min(base.milliseconds * Double(1 << min(failures - 1, 20)), cap.milliseconds)
        return .milliseconds(Int64(Double.random(in: bound / 2...bound, using: &generator)))
    }

    public mutating func succeeded() { failures = 0 }
}

/// How long one POST of a batch may take. A fixed total of 10 s meant a batch that takes longer
/// than that to send could never be delivered: 500 results (about 650 KB) take 80 s at 64 kbit/s,
/// so on a slow link the agent sent the same batch again and again, forever. Now a POST stops
/// once no byte has moved for `stalled` (an aggregator that never answers, a dead link), and in
/// any case after `stalled` plus the body's time at `slowestRate` (an answer trickled byte by
/// byte), or after `fixedTotal` when that is set (the last flush at exit, bounded by the grace).
struct UploadTimeout: Sendable, Equatable {
    var stalled: Duration
    var fixedTotal: Duration?

    /// The slowest link a batch is given time for, in bytes a second: 8 kbit/s.
    static let slowestRate = 1024

    /// While the agent runs: 10 s without progress.
    static let running = UploadTimeout(stalled: .seconds(10))
    /// The last flush before exit: 3 s in all.
    static let exiting = UploadTimeout(stalled: .seconds(3), fixedTotal: .seconds(3))

    /// The bound on the whole exchange for a body of `bytes`.
    func total(bytes: Int) -> Duration {
        fixedTotal ?? stalled + .milliseconds(Int64(bytes) * 1000 / Int64(Self.slowestRate))
    }
}

/// How long one POST of a batch may take. A fixed 10 s meant that a batch taking longer than that
/// to send was never delivered: 500 results (about 650 KB) take 80 s at 64 kbit/s, so on a slow
/// link the agent sent the same batch again and again, for ever, while its spool grew. Now a POST
/// may take `base` plus the body's time at `slowestRate`, or `fixedTotal` when that is set (the
/// last flush at exit, bounded by the grace). libcurl's low-speed limit cannot stand in for a
/// progress timeout here: it counts bytes handed to the kernel, and a socket's send buffer takes a
/// whole batch at once and then drains for longer than any stall limit.
struct UploadTimeout: Sendable, Equatable {
    var base: Duration
    var fixedTotal: Duration?

    /// The slowest link a batch is given time for, in bytes a second: 8 kbit/s.
    static let slowestRate = 1024

    /// While the agent runs: 10 s, and 1 s more for each KiB of the batch.
    static let running = UploadTimeout(base: .seconds(10))
    /// The last flush before exit: 3 s in all.
    static let exiting = UploadTimeout(base: .seconds(3), fixedTotal: .seconds(3))

    /// The bound on the whole exchange for a body of `bytes`.
    func total(bytes: Int) -> Duration {
        fixedTotal ?? base + .milliseconds(Int64(bytes) * 1000 / Int64(Self.slowestRate))
    }
}

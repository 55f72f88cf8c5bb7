import Synchronization

/// Ingest's counters for /metrics: batches and results accepted, duplicates, replays (a batch id
/// already stored, answered 200 and counted only here), rejections by code.
public final class IngestCounters: Sendable {
    public struct Snapshot: Sendable {
        public var batches = 0
        public var results = 0
        public var duplicates = 0
        public var replays = 0
        public var rejected: [AggregatorError.Code: Int] = [:]
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func accepted(_ receipt: BatchReceipt) {
        state.withLock {
            guard !receipt.replayed else {
                $0.replays += 1
                return
            }
            $0.batches += 1
            $0.results += receipt.accepted
            $0.duplicates += receipt.duplicates
        }
    }

    func rejected(_ code: AggregatorError.Code) {
        state.withLock { $0.rejected[code, default: 0] += 1 }
    }
}

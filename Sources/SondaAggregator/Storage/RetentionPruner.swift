import Foundation
import ServiceLifecycle
import SondaCore

/// Prunes raw results past their retention, and minute rollups past theirs, every `interval`, on
/// the replica that holds the fleet's lease only (the others would do the same work again); and
/// forgets ended silences and batch ids past their replay window (`pruneExpired`). A failure (of
/// the lease or of the deletes) is a fault of the store's `FaultLog`, cause `retention`, until a
/// round succeeds.
public struct RetentionPruner: Service {
    let store: any AggregatorStore
    let raw: Duration
    let rollups: Duration
    let interval: Duration

    /// `interval` defaults to `defaultInterval(raw:)`.
    public init(store: any AggregatorStore, raw: Duration, rollups: Duration, interval: Duration? = nil) {
        self.store = store
        self.raw = raw
        self.rollups = rollups
        self.interval = interval ?? Self.defaultInterval(raw: raw)
        store.faults.register(.retention)
    }

    /// Every 10 minutes, or every tenth of a shorter raw retention (at least each second), so the
    /// database holds at most about 1.1 times the retention: with `raw: 5m` and a round every 10
    /// minutes it held three times what it should.
    public static func defaultInterval(raw: Duration) -> Duration {
        max(.seconds(1), min(.seconds(600), raw / 10))
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await pruneOnce(now: Date())
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One round: prunes if this replica holds the lease.
    func pruneOnce(now: Date) async {
        await store.faults.attempt(.retention, describe: StoreOpening.describe) {
            guard try await store.acquireLease(holder: Lease.replica, ttl: AlertService.leaseTTL) != nil else { return }
            try await store.prune(
                rawBefore: now.addingTimeInterval(-Double(raw.components.seconds)),
                rollupsBefore: now.addingTimeInterval(-Double(rollups.components.seconds)))
            try await store.pruneExpired(now: now)
        }
    }
}

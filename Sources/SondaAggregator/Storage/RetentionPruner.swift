import Foundation
import ServiceLifecycle

/// Prunes raw results past their retention, and minute rollups past theirs, every `interval`, on
/// the replica that holds the fleet's lease only (the others would do the same work again); and
/// forgets ended silences and batch ids past their replay window (`pruneExpired`).
public struct RetentionPruner: Service {
    let store: any AggregatorStore
    let raw: Duration
    let rollups: Duration
    let interval: Duration

    public init(store: any AggregatorStore, raw: Duration, rollups: Duration, interval: Duration = .seconds(600)) {
        self.store = store
        self.raw = raw
        self.rollups = rollups
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = Date()
            if (try? await store.acquireLease(holder: Lease.replica, ttl: AlertService.leaseTTL)) != nil {
                _ = try? await store.prune(
                    rawBefore: now.addingTimeInterval(-Double(raw.components.seconds)),
                    rollupsBefore: now.addingTimeInterval(-Double(rollups.components.seconds)))
                _ = try? await store.pruneExpired(now: now)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

import Crypto
import Foundation
import ServiceLifecycle
import SondaConfig
import SondaCore

/// Signs a checkpoint of the audit chain's head at start, every `audit: checkpoint_every` and at
/// shutdown (after the HTTP server has drained, so it covers every batch acknowledged), and
/// appends it to `audit: checkpoints:`. On a shared PostgreSQL database only the replica holding
/// the fleet's lease writes them, as it links the chain. A round that fails (the database, the
/// destination) is a fault of cause `audit_checkpoint` until one succeeds.
///
/// swift-crypto does not mark the key Sendable; it is never mutated, and signing only reads it.
public struct AuditCheckpointer: Service, @unchecked Sendable {
    let store: any AggregatorStore
    let key: Curve25519.Signing.PrivateKey
    let output: CheckpointOutput
    let every: Duration

    public init(store: any AggregatorStore, key: Curve25519.Signing.PrivateKey, config: AuditConfig) {
        self.store = store
        self.key = key
        self.output = CheckpointOutput(config.destination)
        self.every = config.checkpointEvery
        store.faults.register(.auditCheckpoint)
    }

    public func run() async throws {
        var reason = AuditCheckpoint.Reason.start
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await checkpointOnce(reason: reason)
            reason = .interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
        }
        if !Task.isCancelled { await checkpointOnce(reason: .shutdown) }
    }

    /// One round: signs and appends a checkpoint if this replica holds the lease; the checkpoint
    /// written, or nil.
    @discardableResult
    func checkpointOnce(reason: AuditCheckpoint.Reason, now: Date = Date()) async -> AuditCheckpoint? {
        await store.faults.attempt(.auditCheckpoint, describe: StoreOpening.describe) {
            guard try await store.acquireLease(holder: Lease.replica, ttl: AlertService.leaseTTL) != nil else {
                return nil
            }
            let head = try await store.auditHead()
            let checkpoint = try AuditCheckpoint(
                entries: head.entries, head: head.hash, at: now, reason: reason, key: key)
            try output.append(checkpoint.line)
            return checkpoint
        } ?? nil
    }
}

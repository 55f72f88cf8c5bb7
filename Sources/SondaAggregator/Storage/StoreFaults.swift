import Logging
import SondaCore

/// The aggregator's causes of faults in work no request waits for. None fails `/health`: its
/// status code decides readiness, and a replica taken out of service would stop ingest too, which
/// none of these faults does; `sonda_fault_persisting` is what to alert on.
extension FaultCause {
    /// `RetentionPruner`'s deletes failed: the database keeps growing past the retention.
    static let retention = FaultCause("retention")
    /// `WALCheckpointer` could not copy the write-ahead log back: with SQLite's own checkpoints
    /// off, the log grows until one succeeds.
    static let walCheckpoint = FaultCause("wal_checkpoint")
    /// PostgreSQL's batch audit entries could not be linked onto the chain: they wait, unchained,
    /// in `audit_queue` (nothing is lost; `audit verify` counts them as queued).
    static let auditChain = FaultCause("audit_chain")
    /// A signed checkpoint of the audit chain's head could not be read from the database or
    /// appended to its destination (`AuditCheckpointer`): the chain's newest entries go unsigned.
    static let auditCheckpoint = FaultCause("audit_checkpoint")
    /// PostgreSQL's rollup compaction failed: hour and day tables grow by a row per batch.
    static let rollupCompaction = FaultCause("rollup_compaction")
    /// A stored latency histogram that no longer decodes was dropped when its rows were merged.
    static let undecodableRollup = FaultCause("undecodable_rollup")
    /// A stored result whose JSON no longer decodes was left out of the rollups (one per row).
    static let undecodableResult = FaultCause("undecodable_result")
}

extension FaultLog {
    /// A fault log that writes its changes to `logger`: errors when a cause starts failing,
    /// notices when it recovers.
    public convenience init(logger: Logger) {
        self.init { change in
            logger.log(level: change.isRecovery ? .notice : .error, "\(change)")
        }
    }
}

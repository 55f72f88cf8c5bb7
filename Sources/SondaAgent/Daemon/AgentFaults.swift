import SondaCore

/// The agent's causes of faults that no caller sees.
extension FaultCause {
    /// Results could not be written to the spool and are lost (`sonda_spool_unwritten_total`):
    /// the agent probes for nothing until it can write again, so `/health` fails.
    public static let spoolWrite = FaultCause("spool_write", failsHealth: true)
    /// The reporter could not read the spool's next batch: nothing is sent until it can.
    public static let spoolRead = FaultCause("spool_read", failsHealth: true)
    /// The aggregator refused a batch's signature time (409): this host's clock is further from the
    /// aggregator's than its window allows. Nothing is delivered, the spool holds it all, until the
    /// clock is fixed; results keep the times they were stamped with. `/health` stays 200
    /// (degraded): a restart would not fix a clock.
    public static let clockSkew = FaultCause("clock_skew")
    /// The spool's disk is full: the oldest spooled results were dropped, and counted in
    /// `sonda_spool_dropped_total`, to make room for new ones.
    public static let spoolDiskFull = FaultCause("spool_disk_full")
}

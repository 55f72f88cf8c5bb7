import SondaCore

/// The agent's causes of faults that no caller sees.
extension FaultCause {
    /// Results could not be written to the spool and are lost (`sonda_spool_unwritten_total`):
    /// the agent probes for nothing until it can write again, so `/health` fails.
    public static let spoolWrite = FaultCause("spool_write", failsHealth: true)
    /// The reporter could not read the spool's next batch: nothing is sent until it can.
    public static let spoolRead = FaultCause("spool_read", failsHealth: true)
}

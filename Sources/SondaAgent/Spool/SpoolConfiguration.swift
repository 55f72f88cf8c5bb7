/// Limits of a `ResultSpool`.
public struct SpoolConfiguration: Hashable, Sendable {
    /// The open batch file is sealed, and becomes a batch, once it holds this many results.
    public var maxResultsPerBatch: Int
    /// The open batch file is also sealed once it has been open this long, so a quiet agent still reports.
    public var maxBatchAge: Duration
    /// Past this many bytes on disk the oldest whole batch files are dropped and counted. The open batch file
    /// is sealed at a quarter of it as well, so dropping whole batch files can keep the spool near the cap.
    public var maxBytes: Int
    /// Past this many bytes in `quarantine/` its oldest files are removed (the newest one is always
    /// kept). Default: a tenth of `maxBytes`, at most 16 MiB (16 MiB with the default cap).
    public var maxQuarantineBytes: Int

    public static let quarantineCeiling = 16 << 20

    public init(
        maxResultsPerBatch: Int = 500, maxBatchAge: Duration = .seconds(10), maxBytes: Int = 256 << 20,
        maxQuarantineBytes: Int? = nil
    ) {
        self.maxResultsPerBatch = max(1, maxResultsPerBatch)
        self.maxBatchAge = maxBatchAge
        self.maxBytes = max(1, maxBytes)
        self.maxQuarantineBytes = max(1, maxQuarantineBytes ?? min(self.maxBytes / 10, Self.quarantineCeiling))
    }

    var maxBytesPerBatch: Int { max(1, maxBytes / 4) }
}

/// Limits of a `ResultSpool`.
public struct SpoolConfiguration: Hashable, Sendable {
    /// The open segment is sealed, and becomes a batch, once it holds this many results.
    public var maxResultsPerSegment: Int
    /// The open segment is also sealed once it has been open this long, so a quiet agent still reports.
    public var maxSegmentAge: Duration
    /// Past this many bytes on disk the oldest whole segments are dropped and counted. The open segment
    /// is sealed at a quarter of it as well, so dropping whole segments can keep the spool near the cap.
    public var maxBytes: Int
    /// Past this many bytes in `quarantine/` its oldest files are removed (the newest one is always
    /// kept). Default: a tenth of `maxBytes`, at most 16 MiB (16 MiB with the default cap).
    public var maxQuarantineBytes: Int

    public static let quarantineCeiling = 16 << 20

    public init(
        maxResultsPerSegment: Int = 500, maxSegmentAge: Duration = .seconds(10), maxBytes: Int = 256 << 20,
        maxQuarantineBytes: Int? = nil
    ) {
        self.maxResultsPerSegment = max(1, maxResultsPerSegment)
        self.maxSegmentAge = maxSegmentAge
        self.maxBytes = max(1, maxBytes)
        self.maxQuarantineBytes = max(1, maxQuarantineBytes ?? min(self.maxBytes / 10, Self.quarantineCeiling))
    }

    var maxBytesPerSegment: Int { max(1, maxBytes / 4) }
}

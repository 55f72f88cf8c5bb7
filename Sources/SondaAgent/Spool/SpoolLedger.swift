/// What a `ResultSpool` holds, without any I/O: its segments oldest first, their sizes, and the rules
/// for when to seal the open segment and which segments the size cap drops. Times are offsets on the
/// spool's clock.
struct SpoolLedger {
    struct Segment: Hashable {
        var name: SegmentName
        var results: Int
        var bytes: Int
        /// Set once the segment has been read and its unreadable lines counted, so they are counted once.
        var checked = false
    }

    struct OpenSegment: Hashable {
        var segment: Segment
        var openedAt: Duration
    }

    let configuration: SpoolConfiguration
    private(set) var sealed: [Segment] = []
    private(set) var open: OpenSegment?
    private(set) var nextSequence: UInt64 = 1
    private(set) var depth = 0
    private(set) var bytes = 0

    init(configuration: SpoolConfiguration) {
        self.configuration = configuration
    }

    /// Adds a sealed segment found on disk; call in name order.
    mutating func restore(_ segment: Segment) {
        sealed.append(segment)
        nextSequence = max(nextSequence, segment.name.sequence + 1)
        depth += segment.results
        bytes += segment.bytes
    }

    /// Opens `name` (numbered `nextSequence`; the caller has created its file).
    mutating func startSegment(_ name: SegmentName, at now: Duration) {
        precondition(open == nil, "a segment is already open")
        nextSequence = max(nextSequence, name.sequence + 1)
        open = OpenSegment(segment: Segment(name: name, results: 0, bytes: 0), openedAt: now)
    }

    /// How many of the next lines (given by their sizes) go into the open segment: at least one, then
    /// as many as fit under the segment's result and byte limits.
    func linesFitting(_ sizes: some Collection<Int>) -> Int {
        guard let open = open?.segment else { return 0 }
        var count = 0
        var bytes = open.bytes
        for size in sizes {
            let fits =
                open.results + count < configuration.maxResultsPerSegment
                && bytes + size <= configuration.maxBytesPerSegment
            guard fits || (count == 0 && open.results == 0) else { break }
            count += 1
            bytes += size
        }
        return count
    }

    mutating func recordWrite(results: Int, bytes written: Int) {
        precondition(open != nil, "no open segment")
        open!.segment.results += results
        open!.segment.bytes += written
        depth += results
        bytes += written
    }

    var openIsFull: Bool {
        guard let open = open?.segment else { return false }
        return open.results >= configuration.maxResultsPerSegment || open.bytes >= configuration.maxBytesPerSegment
    }

    /// When the open segment is old enough to seal; nil while none holds results.
    var sealAge: Duration? {
        guard let open, open.segment.results > 0 else { return nil }
        return open.openedAt + configuration.maxSegmentAge
    }

    /// Whether the open segment should be sealed now: it has results and is old enough, or `force`.
    func shouldSeal(at now: Duration, force: Bool = false) -> Bool {
        guard let sealAge else { return false }
        return force || openIsFull || now >= sealAge
    }

    /// Moves the open segment to the sealed ones (the caller has renamed its file).
    mutating func seal() {
        guard let open else { return }
        sealed.append(open.segment)
        self.open = nil
    }

    /// Removes a sealed segment, acknowledged or dropped; nil if it is not (or no longer) in the spool.
    @discardableResult
    mutating func remove(_ name: SegmentName) -> Segment? {
        guard let index = sealed.firstIndex(where: { $0.name == name }) else { return nil }
        let segment = sealed.remove(at: index)
        depth -= segment.results
        bytes -= segment.bytes
        return segment
    }

    /// The oldest sealed segments that must go so the spool fits in `maxBytes`. The open segment is
    /// never dropped: it holds the newest results.
    func overCap() -> [Segment] {
        var excess = bytes - configuration.maxBytes
        var dropped: [Segment] = []
        for segment in sealed where excess > 0 {
            dropped.append(segment)
            excess -= segment.bytes
        }
        return dropped
    }

    /// Corrects a sealed segment's result count once it has been read; returns whether this was the
    /// first reading (whose unreadable lines are to be counted).
    mutating func recordRead(_ name: SegmentName, results: Int) -> Bool {
        guard let index = sealed.firstIndex(where: { $0.name == name }), !sealed[index].checked else { return false }
        depth += results - sealed[index].results
        sealed[index].results = results
        sealed[index].checked = true
        return true
    }
}

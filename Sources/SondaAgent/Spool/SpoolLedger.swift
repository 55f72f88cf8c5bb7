/// What a `ResultSpool` holds, without any I/O: its batch files oldest first, their sizes, and the rules
/// for when to seal the open batch file and which batch files the size cap drops. Times are offsets on the
/// spool's clock.
struct SpoolLedger {
    struct BatchFile: Hashable {
        var name: BatchFileName
        var results: Int
        var bytes: Int
        /// Set once the batch file has been read and its unreadable lines counted, so they are counted once.
        var checked = false
    }

    struct OpenBatchFile: Hashable {
        var batchFile: BatchFile
        var openedAt: Duration
    }

    let configuration: SpoolConfiguration
    private(set) var sealed: [BatchFile] = []
    private(set) var open: OpenBatchFile?
    private(set) var nextSequence: UInt64 = 1
    private(set) var depth = 0
    private(set) var bytes = 0

    init(configuration: SpoolConfiguration) {
        self.configuration = configuration
    }

    /// Adds a sealed batch file found on disk; call in name order.
    mutating func restore(_ batchFile: BatchFile) {
        sealed.append(batchFile)
        nextSequence = max(nextSequence, batchFile.name.sequence + 1)
        depth += batchFile.results
        bytes += batchFile.bytes
    }

    /// Opens `name` (numbered `nextSequence`; the caller has created its file).
    mutating func startBatchFile(_ name: BatchFileName, at now: Duration) {
        precondition(open == nil, "a batch file is already open")
        nextSequence = max(nextSequence, name.sequence + 1)
        open = OpenBatchFile(batchFile: BatchFile(name: name, results: 0, bytes: 0), openedAt: now)
    }

    /// How many of the next lines (given by their sizes) go into the open batch file: at least one, then
    /// as many as fit under the batch file's result and byte limits.
    func linesFitting(_ sizes: some Collection<Int>) -> Int {
        guard let open = open?.batchFile else { return 0 }
        var count = 0
        var bytes = open.bytes
        for size in sizes {
            let fits =
                open.results + count < configuration.maxResultsPerBatch
                && bytes + size <= configuration.maxBytesPerBatch
            guard fits || (count == 0 && open.results == 0) else { break }
            count += 1
            bytes += size
        }
        return count
    }

    mutating func recordWrite(results: Int, bytes written: Int) {
        precondition(open != nil, "no open batch file")
        open!.batchFile.results += results
        open!.batchFile.bytes += written
        depth += results
        bytes += written
    }

    var openIsFull: Bool {
        guard let open = open?.batchFile else { return false }
        return open.results >= configuration.maxResultsPerBatch || open.bytes >= configuration.maxBytesPerBatch
    }

    /// When the open batch file is old enough to seal; nil while none holds results.
    var sealAge: Duration? {
        guard let open, open.batchFile.results > 0 else { return nil }
        return open.openedAt + configuration.maxBatchAge
    }

    /// Whether the open batch file should be sealed now: it has results and is old enough, or `force`.
    func shouldSeal(at now: Duration, force: Bool = false) -> Bool {
        guard let sealAge else { return false }
        return force || openIsFull || now >= sealAge
    }

    /// Moves the open batch file to the sealed ones (the caller has renamed its file).
    mutating func seal() {
        guard let open else { return }
        sealed.append(open.batchFile)
        self.open = nil
    }

    /// Removes a sealed batch file, acknowledged or dropped; nil if it is not (or no longer) in the spool.
    @discardableResult
    mutating func remove(_ name: BatchFileName) -> BatchFile? {
        guard let index = sealed.firstIndex(where: { $0.name == name }) else { return nil }
        let batchFile = sealed.remove(at: index)
        depth -= batchFile.results
        bytes -= batchFile.bytes
        return batchFile
    }

    /// The oldest sealed batch files that must go so the spool fits in `maxBytes`. The open batch file is
    /// never dropped: it holds the newest results.
    func overCap() -> [BatchFile] {
        var excess = bytes - configuration.maxBytes
        var dropped: [BatchFile] = []
        for batchFile in sealed where excess > 0 {
            dropped.append(batchFile)
            excess -= batchFile.bytes
        }
        return dropped
    }

    /// Corrects a sealed batch file's result count once it has been read; returns whether this was the
    /// first reading (whose unreadable lines are to be counted).
    mutating func recordRead(_ name: BatchFileName, results: Int) -> Bool {
        guard let index = sealed.firstIndex(where: { $0.name == name }), !sealed[index].checked else { return false }
        depth += results - sealed[index].results
        sealed[index].results = results
        sealed[index].checked = true
        return true
    }
}

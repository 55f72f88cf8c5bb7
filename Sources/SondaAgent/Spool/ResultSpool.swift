import Foundation
import SondaCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts for a heartbeat, from `ResultSpool.unreportedCounts()`.
public struct UnreportedCounts: Hashable, Sendable {
    /// The spool's running totals these counts reach up to.
    let droppedThrough: Int
    public let dropped: Int
    let quarantinedThrough: Int
    public let quarantined: Int
}

/// The agent's durable queue of results the aggregator has not acknowledged, so that neither an
/// aggregator outage nor an agent crash loses a result.
///
/// A directory of batch files, one result per JSON line. Results are appended to the open batch file,
/// which is sealed when full or old; the reporter takes the oldest sealed batch file with `nextBatch()`
/// and deletes it with `acknowledge(_:)` once the aggregator has committed it. Opening an existing
/// directory resumes it. Past `maxBytes` the oldest batch files are dropped and counted. What the
/// aggregator refuses for good is set aside in `quarantine/` (`ResultSpool+Quarantine.swift`).
///
/// One instance may be used from several threads: the scheduler appends while the reporter drains.
public final class ResultSpool: Sendable {
    public let configuration: SpoolConfiguration
    let directory: SpoolDirectory
    let quarantineFolder: SpoolQuarantine
    private let now: @Sendable () -> Duration
    let state: Mutex<State>

    struct State {
        var ledger: SpoolLedger
        var counters: SpoolCounters
        var openFile: Int32?
        /// The open batch file's results as a batch sends them (objects joined by commas), kept
        /// while it is small; nil when it grew past `memoryCopyLimit` or a write failed.
        var openObjects: [UInt8]? = []
        /// The last batch file sealed, with its objects: the reporter sends it without reading it back.
        var sealedCopy: (name: BatchFileName, objects: [UInt8], count: Int)?
        var unreadableLines = 0
        var onNews: (@Sendable () -> Void)?
    }

    /// Up to this many bytes of results are kept in memory as they are written, so the reporter
    /// sends the batch file this process wrote without reading it back and checking every line (a
    /// sixth of the reporter's instructions, beside signing).
    static let memoryCopyLimit = 1 << 20

    /// Calls `handler`, on the appending thread, after an append that changed when the next batch
    /// is due: the first result of an open batch file (`timeUntilSealDue` had no value) or a batch file
    /// sealed because it filled up. The reporter sleeps until then.
    public func onNews(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.onNews = handler }
    }

    /// Opens the spool in `directory`, creating it if missing. Batch files a previous process left are
    /// sealed as they are, minus a last line it did not finish writing (counted in `unreadableLines`).
    /// `clock` decides batch file ages.
    public init(
        directory: String, configuration: SpoolConfiguration = SpoolConfiguration(),
        clock: some Clock<Duration> = ContinuousClock()
    ) throws {
        let start = clock.now
        self.now = { start.duration(to: clock.now) }
        self.configuration = configuration
        let directory = try SpoolDirectory(path: directory)
        self.directory = directory
        self.quarantineFolder = SpoolQuarantine(spool: directory, maxBytes: configuration.maxQuarantineBytes)
        var state = State(
            ledger: SpoolLedger(configuration: configuration), counters: try SpoolCounters.load(from: directory))
        state.unreadableLines = try SpoolRecovery.restore(directory, into: &state.ledger)
        self.state = Mutex(state)
        try self.state.withLock { try dropOverCap(&$0) }
    }

    deinit {
        state.withLock { state in
            if let fd = state.openFile { close(fd) }
        }
    }

    /// Writes `results` to the open batch file; they are in the spool once this returns (and on disk,
    /// against a power cut, once the batch file is sealed for sending). When the disk is full, the
    /// oldest sealed batch files are dropped, and counted in `droppedTotal`, until the rest fits; returns
    /// how many results that dropped. When it throws, results written before the failure stay
    /// spooled: appending them again is harmless, as the aggregator keeps one copy per result id. A
    /// `SpoolError` says how many were not written.
    @discardableResult
    public func append(_ results: [ProbeResult]) throws -> Int {
        var written = 0
        var dropped = 0
        while written < results.count {
            var done = 0
            do {
                try append(written == 0 ? results : Array(results[written...]), written: &done)
                written += done
            } catch var error as SpoolError {
                written += done
                if error.isDiskFull, let freed = dropOldest() {
                    dropped += freed
                    continue
                }
                error.unwrittenResults = results.count - written
                throw error
            }
        }
        return dropped
    }

    /// Drops the oldest sealed batch file, counted, to make room on a full disk; the number of results
    /// it held, or nil when there is none (the open batch file holds the newest results and stays).
    /// A batch file the reporter is sending may go: if the aggregator takes it after all, it was
    /// delivered and counted as dropped as well.
    private func dropOldest() -> Int? {
        state.withLock { state in
            guard let oldest = state.ledger.sealed.first, (try? directory.remove(oldest.name.sealedFile)) != nil
            else { return nil }
            state.ledger.remove(oldest.name)
            if state.sealedCopy?.name == oldest.name { state.sealedCopy = nil }
            state.counters.droppedTotal += oldest.results
            try? state.counters.save(to: directory)
            return oldest.results
        }
    }

    private func append(_ results: [ProbeResult], written: inout Int) throws {
        let (bytes, ends) = BatchFileLines.encode(results)
        let sizes = ends.indices.map { ends[$0] - ($0 == 0 ? 0 : ends[$0 - 1]) }
        let news: (@Sendable () -> Void)? = try state.withLock { state in
            let wasDue = state.ledger.sealAge != nil
            let sealedBefore = state.ledger.sealed.count
            let now = self.now()
            if state.ledger.shouldSeal(at: now) { try seal(&state) }
            var index = 0
            while index < ends.count {
                if state.ledger.open == nil { try startBatchFile(&state, at: now) }
                let count = state.ledger.linesFitting(sizes[index...])
                guard count > 0 else {
                    try seal(&state)
                    continue
                }
                let start = index == 0 ? 0 : ends[index - 1]
                let end = ends[index + count - 1]
                try write(bytes[start..<end], &state)
                state.ledger.recordWrite(results: count, bytes: end - start)
                written += count
                Self.copy(bytes[start..<end], into: &state.openObjects)
                if state.ledger.openIsFull { try seal(&state) }
                index += count
            }
            let sealedHere = state.ledger.sealed.count > sealedBefore
            try dropOverCap(&state)
            return wasDue && !sealedHere ? nil : state.onNews
        }
        news?()
    }

    /// The oldest sealed batch file, or nil when there is none. The open batch file is sealed first when it
    /// is old enough, or, with `force` (flushing at shutdown), whenever it holds results. Until it is
    /// acknowledged, the same batch is returned again.
    public func nextBatch(force: Bool = false) throws -> SpoolBatch? {
        while true {
            let oldest: BatchFileName? = try state.withLock { state in
                if state.ledger.shouldSeal(at: now(), force: force && state.ledger.sealed.isEmpty) {
                    try seal(&state)
                }
                return state.ledger.sealed.first?.name
            }
            guard let name = oldest else { return nil }
            let copy: SpoolBatch? = state.withLock { state in
                guard let copy = state.sealedCopy, copy.name == name else { return nil }
                _ = state.ledger.recordRead(name, results: copy.count)
                return SpoolBatch(id: name.stem, objects: copy.objects, count: copy.count)
            }
            if let copy { return copy }
            // Sealed batch files never change, so they are read and decoded without holding the lock.
            let bytes = try directory.contents(of: name.sealedFile)
            let (objects, count, unreadable) = BatchFileLines.join(bytes ?? [])
            try state.withLock { state in
                if state.ledger.recordRead(name, results: count) { state.unreadableLines += unreadable }
                if bytes == nil || count == 0 { try remove(name, &state) }
            }
            if count > 0 { return SpoolBatch(id: name.stem, objects: objects, count: count) }
        }
    }

    /// Deletes the batch's batch file: call once the aggregator has committed it. A batch no longer in
    /// the spool (acknowledged before, or dropped by the size cap while it was being sent) is ignored.
    public func acknowledge(_ batch: SpoolBatch) throws {
        guard let name = BatchFileName(stem: batch.id) else { return }
        try state.withLock { try remove(name, &$0) }
    }

    /// How long until the open batch file is old enough to seal and send; nil when no batch file is open
    /// (or it holds nothing yet). The reporter sleeps this long instead of polling.
    public var timeUntilSealDue: Duration? {
        state.withLock { state in state.ledger.sealAge.map { max($0 - now(), .zero) } }
    }

    /// Results in the spool, sealed or not.
    public var depth: Int { state.withLock { $0.ledger.depth } }

    /// Bytes of the batch files.
    public var bytes: Int { state.withLock { $0.ledger.bytes } }

    /// Results dropped by the size cap since the spool directory was created.
    public var droppedTotal: Int { state.withLock { $0.counters.droppedTotal } }

    /// Lines skipped since this instance opened: torn by a crash mid-write, or otherwise not a result.
    public var unreadableLines: Int { state.withLock { $0.unreadableLines } }

    /// Results set aside in `quarantine/` since the spool directory was created.
    public var quarantinedTotal: Int { state.withLock { $0.counters.quarantinedTotal } }

    /// Quarantine files written since the spool directory was created (one per refused batch).
    public var quarantinedBatches: Int { state.withLock { $0.counters.quarantinedBatches } }

    /// What the next heartbeat carries: the results dropped and quarantined that no heartbeat the
    /// aggregator acknowledged has carried yet. Nothing is marked as reported here: call
    /// `reported(_:)` once the aggregator has answered 200, so a failed POST loses no count.
    public func unreportedCounts() -> UnreportedCounts {
        state.withLock { state in
            UnreportedCounts(
                droppedThrough: state.counters.droppedTotal,
                dropped: state.counters.droppedTotal - state.counters.droppedReported,
                quarantinedThrough: state.counters.quarantinedTotal,
                quarantined: state.counters.quarantinedTotal - state.counters.quarantinedReported)
        }
    }

    /// The aggregator acknowledged a heartbeat carrying `counts`. Remembered across restarts; if
    /// the state file cannot be written, a restart reports them again rather than never.
    public func reported(_ counts: UnreportedCounts) {
        state.withLock { state in
            let before = state.counters
            state.counters.droppedReported = max(state.counters.droppedReported, counts.droppedThrough)
            state.counters.quarantinedReported = max(state.counters.quarantinedReported, counts.quarantinedThrough)
            if state.counters != before { try? state.counters.save(to: directory) }
        }
    }

    // MARK: Changes, with the lock held

    private func startBatchFile(_ state: inout State, at now: Duration) throws {
        let name = BatchFileName(sequence: state.ledger.nextSequence, token: UInt64.random(in: .min ... .max))
        // No directory sync here: `seal` syncs the directory after the rename, which makes this
        // entry durable too; until then a power cut loses the open batch file in any case.
        state.openFile = try directory.create(name.openFile)
        state.openObjects = []
        state.ledger.startBatchFile(name, at: now)
    }

    private func write(_ bytes: ArraySlice<UInt8>, _ state: inout State) throws {
        guard let open = state.ledger.open?.batchFile, let fd = state.openFile else { return }
        do {
            try directory.append(bytes, to: fd, file: open.name.openFile)
        } catch {
            // No line may follow a partial one: cut back to the last durable line or, failing that,
            // seal the batch file so the next append starts a new file.
            state.openObjects = nil
            do { try directory.truncate(open.name.openFile, to: open.bytes) } catch { try? seal(&state) }
            throw error
        }
    }

    /// Makes the open batch file a sendable batch. Appends are not fsync'd one by one (each held a
    /// scheduler thread for a disk flush per probe); the batch file is fsync'd here, before it can be
    /// sent, so a power cut can only lose results not yet sent and younger than the batch age, and a
    /// crashed process loses nothing (its writes are in the page cache).
    private func seal(_ state: inout State) throws {
        guard let open = state.ledger.open?.batchFile else { return }
        let name = open.name
        if let fd = state.openFile { try directory.flush(fd, file: name.openFile) }
        try directory.move(name.openFile, to: name.sealedFile)
        try directory.sync()
        if let fd = state.openFile { close(fd) }
        state.openFile = nil
        state.ledger.seal()
        state.sealedCopy = state.openObjects.map { (name, $0, open.results) }
        state.openObjects = nil
    }

    /// Not synced: a removal a power cut undoes only sends the batch again, which the aggregator
    /// ignores (results are idempotent by id).
    func remove(_ name: BatchFileName, _ state: inout State) throws {
        guard state.ledger.sealed.contains(where: { $0.name == name }) else { return }
        try directory.remove(name.sealedFile)
        state.ledger.remove(name)
        if state.sealedCopy?.name == name { state.sealedCopy = nil }
    }

    /// Appends written lines to `objects` as a batch holds them: each line's newline becomes the
    /// comma before the next (a result line has no other newline: JSON escapes them).
    private static func copy(_ lines: ArraySlice<UInt8>, into objects: inout [UInt8]?) {
        guard objects != nil, !lines.isEmpty else { return }
        guard objects!.count + lines.count <= memoryCopyLimit else {
            objects = nil
            return
        }
        if !objects!.isEmpty { objects!.append(UInt8(ascii: ",")) }
        let start = objects!.count
        objects!.append(contentsOf: lines.dropLast())
        objects!.withUnsafeMutableBufferPointer { buffer in
            for index in start..<buffer.count where buffer[index] == 0x0A { buffer[index] = UInt8(ascii: ",") }
        }
    }

    private func dropOverCap(_ state: inout State) throws {
        let victims = state.ledger.overCap()
        guard !victims.isEmpty else { return }
        for batchFile in victims {
            try directory.remove(batchFile.name.sealedFile)
            state.ledger.remove(batchFile.name)
            if state.sealedCopy?.name == batchFile.name { state.sealedCopy = nil }
            state.counters.droppedTotal += batchFile.results
        }
        try directory.sync()
        try state.counters.save(to: directory)
    }
}

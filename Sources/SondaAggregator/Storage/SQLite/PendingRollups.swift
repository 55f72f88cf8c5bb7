import Foundation
import GRDB
import SondaCore
import Synchronization

/// Rollups of committed results that are not merged into the rollup tables yet.
///
/// Merging a histogram is a read and a write of its row, and a batch of 500 results touches about
/// a thousand rows (minute, hour and day, per phase), so merging per batch made rollups the larger
/// part of ingest. Instead a batch's rollup joins this buffer when its transaction commits, and is
/// merged in a later batch's transaction: at once when no other batch is waiting for the writer
/// (so a reader sees what an agent was just told is stored), otherwise once the buffer is a
/// second old. The merge records the last results rowid it covers in `rollup_cursor`; raw rows
/// are committed before the 200, so after a crash `recover` folds the rows past the cursor again.
/// Nothing is counted twice or lost.
final class PendingRollups: Sendable {
    struct Pending {
        var rollup = MinuteRollup()
        var throughRowID: Int64 = 0
        var since: ContinuousClock.Instant?
    }

    static let maximumAge: Duration = .seconds(1)

    private let state = Mutex(Pending())
    /// Batches that asked for the writer and have not got it yet.
    let waitingWriters = Atomic<Int>(0)
    /// Where stored histograms that no longer decode are reported, once their merge commits.
    let faults: FaultLog

    init(faults: FaultLog) {
        self.faults = faults
    }

    /// Adds a committed batch's rollup (called from the writer, in commit order).
    func add(_ rollup: MinuteRollup, throughRowID: Int64) {
        state.withLock { pending in
            pending.rollup.merge(rollup)
            pending.throughRowID = max(pending.throughRowID, throughRowID)
            if pending.since == nil { pending.since = .now }
        }
    }

    /// True when the writer should merge now: nobody is queued behind it, or the buffer is old.
    var isDue: Bool {
        if waitingWriters.load(ordering: .acquiring) == 0 { return true }
        return state.withLock { $0.since.map { ContinuousClock.now - $0 > Self.maximumAge } ?? false }
    }

    /// Merges the buffer, plus `rollup` (this transaction's own, covering rows through `rowID`),
    /// into the tables within the current transaction. If the transaction rolls back, the buffer
    /// is put back as it was.
    func flush(adding rollup: MinuteRollup = MinuteRollup(), throughRowID rowID: Int64 = 0, in db: Database) throws {
        var pending = state.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        db.afterNextTransaction(
            onCommit: { _ in },
            onRollback: { [pending] _ in
                if pending.since != nil { self.add(pending.rollup, throughRowID: pending.throughRowID) }
            })
        pending.rollup.merge(rollup)
        let through = max(pending.throughRowID, rowID)
        guard !pending.rollup.isEmpty || through > 0 else { return }
        let undecodable = try pending.rollup.save(in: db)
        if undecodable.rows > 0 {
            db.afterNextTransaction(onCommit: { [faults] _ in undecodable.record(in: faults) })
        }
        if through > 0 {
            try db.execute(sql: "UPDATE rollup_cursor SET row_id = max(row_id, ?)", arguments: [through])
        }
    }

    /// Folds results past the cursor into the rollups: the batches whose rollups were still in
    /// memory when the process stopped without flushing.
    static func recover(in db: Database) throws
        -> (results: Int, undecodable: UndecodableResults, histograms: UndecodableHistograms)
    {
        let cursor = try Int64.fetchOne(db, sql: "SELECT row_id FROM rollup_cursor") ?? 0
        let unfolded = try fold(after: cursor, in: db)
        let histograms = try unfolded.rollup.save(in: db)
        try db.execute(sql: "UPDATE rollup_cursor SET row_id = ?", arguments: [unfolded.through])
        return (unfolded.results, unfolded.undecodable, histograms)
    }

    /// The rollup of the results stored after rowid `cursor`, the last rowid read and how many
    /// results it counts. A result whose JSON no longer decodes is left out and reported in
    /// `undecodable`.
    static func fold(after cursor: Int64, in db: Database) throws
        -> (rollup: MinuteRollup, through: Int64, results: Int, undecodable: UndecodableResults)
    {
        let decoder = ResultJSON.decoder()
        var rollup = MinuteRollup()
        var last: Int64 = cursor
        var folded = 0
        var undecodable = UndecodableResults()
        let rows = try Row.fetchCursor(
            db, sql: "SELECT rowid, region, json FROM results WHERE rowid > ? ORDER BY rowid", arguments: [cursor])
        while let row = try rows.next() {
            last = row[0]
            let json: String = row[2]
            do {
                let result = try decoder.decode(ProbeResult.self, from: Data(json.utf8))
                rollup.add(result, key: RollupKey(result, agentRegion: row[1]))
                folded += 1
            } catch {
                undecodable.add(rowID: last, error)
            }
        }
        return (rollup, last, folded, undecodable)
    }
}

/// Stored results that no longer decode, met while folding rollups: each is left out of them.
public struct UndecodableResults: Sendable {
    /// How many examples are kept: enough to find the rows, not every row of a damaged file.
    public static let examplesKept = 10

    public private(set) var count = 0
    /// The first rows met (up to `examplesKept`): the results rowid and why it does not decode.
    public private(set) var examples: [(rowID: Int64, error: String)] = []
    var first: (rowID: Int64, error: String)? { examples.first }

    mutating func add(rowID: Int64, _ error: any Error) {
        count += 1
        if examples.count < Self.examplesKept { examples.append((rowID, "\(error)")) }
    }

    /// Records them as faults of cause `undecodable_result`, one per row.
    func record(in faults: FaultLog) {
        guard let first else { return }
        faults.record(
            .undecodableResult,
            "\(count) stored result\(count == 1 ? "" : "s") no longer decode\(count == 1 ? "s" : "") and "
                + "\(count == 1 ? "is" : "are") left out of the rollups (first: results rowid \(first.rowID): \(first.error))",
            occurrences: count)
    }
}

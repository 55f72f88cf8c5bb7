import Foundation
import GRDB
import SondaCore

/// Batch ids remembered against replays on SQLite (`batch_ids`), written in the batch's own
/// transaction.
enum SQLiteBatchIDs {
    /// Remembers the batch's id until `until`; false when it was already remembered (a replay),
    /// whose memory is then kept until the later of the two times.
    static func remember(_ batch: ResultBatch, until: Date, in db: Database) throws -> Bool {
        let ms = Int64(until.timeIntervalSince1970 * 1000)
        try db.execute(
            sql: "INSERT OR IGNORE INTO batch_ids (agent, batch_id, until_ms) VALUES (?, ?, ?)",
            arguments: [batch.agent, batch.batchID, ms])
        guard db.changesCount == 0 else { return true }
        try db.execute(
            sql: "UPDATE batch_ids SET until_ms = MAX(until_ms, ?) WHERE agent = ? AND batch_id = ?",
            arguments: [ms, batch.agent, batch.batchID])
        return false
    }
}

import Foundation

/// What `ResultSpool.quarantine` set aside.
public struct Quarantined: Hashable, Sendable {
    /// The quarantine file holding the refused results.
    public var path: String
    public var results: Int
    /// Batch ids whose quarantine files the size cap removed to make room.
    public var trimmed: [String]
}

extension ResultSpool {
    /// The folder refused results are set aside in: `quarantine/` in the spool directory.
    public var quarantinePath: String { quarantineFolder.path }

    /// Sets aside the results of `batch` (by their index in it) that the aggregator refused for
    /// good, with `explanation` (what it said, as JSON) beside them, and takes the batch out of the
    /// spool: the rest of it has been delivered. When every result was refused the batch file
    /// itself is moved; otherwise the refused results are written as a batch file of their own.
    /// Nothing is removed before the quarantine file is on disk. Returns nil when the batch is no
    /// longer in the spool (the size cap dropped it, and counted it, meanwhile).
    public func quarantine(_ batch: SpoolBatch, refused: [Range<Int>], explanation: String) throws -> Quarantined? {
        guard let name = BatchFileName(stem: batch.id) else {
            throw SpoolError(.io, "spool: '\(batch.id)' is not a batch of this spool")
        }
        let count = refused.reduce(0) { $0 + $1.count }
        let stem = name.stem
        let explanationBytes = Array((explanation + "\n").utf8)
        let moved: Bool
        if count >= batch.count {
            moved = try state.withLock { state in
                guard state.ledger.sealed.contains(where: { $0.name == name }) else { return false }
                try quarantineFolder.adopt(name.sealedFile, stem: stem)
                state.ledger.remove(name)
                if state.sealedCopy?.name == name { state.sealedCopy = nil }
                try countQuarantined(count, &state)
                return true
            }
            guard moved else { return nil }
            try quarantineFolder.write(explanationBytes, stem: stem, suffix: SpoolQuarantine.errorSuffix)
        } else {
            guard state.withLock({ $0.ledger.sealed.contains { $0.name == name } }) else { return nil }
            guard let ranges = BatchFileLines.objectRanges(batch.objects), ranges.count == batch.count else {
                throw SpoolError(.io, "spool: batch '\(batch.id)' cannot be cut into its \(batch.count) results")
            }
            var lines: [UInt8] = []
            for part in refused {
                for index in part {
                    lines.append(contentsOf: batch.objects[ranges[index]])
                    lines.append(0x0A)
                }
            }
            try quarantineFolder.write(lines, stem: stem, suffix: SpoolQuarantine.resultsSuffix)
            try quarantineFolder.write(explanationBytes, stem: stem, suffix: SpoolQuarantine.errorSuffix)
            moved = try state.withLock { state in
                guard state.ledger.sealed.contains(where: { $0.name == name }) else { return false }
                try remove(name, &state)
                try countQuarantined(count, &state)
                return true
            }
        }
        let trimmed = (try? quarantineFolder.trim()) ?? []
        guard moved else { return nil }
        return Quarantined(
            path: quarantineFolder.path + "/" + stem + SpoolQuarantine.resultsSuffix, results: count, trimmed: trimmed)
    }

    private func countQuarantined(_ results: Int, _ state: inout State) throws {
        state.counters.quarantinedTotal += results
        state.counters.quarantinedBatches += 1
        try state.counters.save(to: directory)
    }
}

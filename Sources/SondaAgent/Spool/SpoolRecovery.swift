/// Reopening a spool directory after a restart or a crash.
enum SpoolRecovery {
    /// Adds the batch files found in `directory` to `ledger`, oldest first, and returns how many torn
    /// lines were cut off. A batch file a previous process still had open is sealed: nothing is ever
    /// appended after a line that may be torn. Empty batch files are removed.
    static func restore(_ directory: SpoolDirectory, into ledger: inout SpoolLedger) throws(SpoolError) -> Int {
        let found = try directory.files().compactMap(BatchFileName.parse(file:)).sorted { $0.name < $1.name }
        var torn = 0
        var renamed = false
        for (name, sealed) in found {
            let file = sealed ? name.sealedFile : name.openFile
            guard let bytes = try directory.contents(of: file) else { continue }
            let complete = BatchFileLines.completeLength(bytes)
            if complete < bytes.count {
                torn += 1
                try directory.truncate(file, to: complete)
            }
            if complete == 0 {
                try directory.remove(file)
                renamed = true
                continue
            }
            if !sealed {
                try directory.move(file, to: name.sealedFile)
                renamed = true
            }
            let lines = BatchFileLines.count(Array(bytes[..<complete]))
            ledger.restore(SpoolLedger.BatchFile(name: name, results: lines, bytes: complete))
        }
        if renamed { try directory.sync() }
        return torn
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The spool's `quarantine/` folder: results the aggregator refused for good (400, 413), kept for
/// an operator to inspect instead of being retried forever or deleted. Each refused batch leaves
/// `<batch id>.jsonl` (its refused results, one per line, as in a batch file) and
/// `<batch id>.error.json` (what the aggregator said). Past `maxBytes` the oldest batches' files
/// are removed, never the newest batch's.
struct SpoolQuarantine: Sendable {
    static let folder = "quarantine"
    static let resultsSuffix = ".jsonl"
    static let errorSuffix = ".error.json"

    let spool: SpoolDirectory
    let maxBytes: Int
    var path: String { spool.path(of: Self.folder) }

    /// The folder, created (and made durable in the spool directory) on first use.
    func directory() throws(SpoolError) -> SpoolDirectory {
        let existed = FileManager.default.fileExists(atPath: path)
        let directory = try SpoolDirectory(path: path)
        if !existed { try spool.sync() }
        return directory
    }

    /// Moves the spool's file `file` in as `stem`'s results, dated now (its age in the quarantine
    /// decides when the cap removes it). Both directories are synced.
    func adopt(_ file: String, stem: String) throws(SpoolError) {
        let folder = try directory()
        let target = folder.path(of: stem + Self.resultsSuffix)
        guard rename(spool.path(of: file), target) == 0 else { throw .io("rename", spool.path(of: file)) }
        _ = utimensat(AT_FDCWD, target, nil, 0)
        try folder.sync()
        try spool.sync()
    }

    /// Writes `bytes` as `stem`'s file with `suffix`, durably, replacing one a crash left behind.
    func write(_ bytes: [UInt8], stem: String, suffix: String) throws(SpoolError) {
        let folder = try directory()
        let file = stem + suffix
        let temporary = file + ".tmp"
        try folder.remove(temporary)
        let fd = try folder.create(temporary)
        do {
            try folder.append(bytes[...], to: fd, file: temporary)
            try folder.flush(fd, file: temporary)
            close(fd)
        } catch {
            close(fd)
            try? folder.remove(temporary)
            throw error
        }
        try folder.move(temporary, to: file)
        try folder.sync()
    }

    /// Removes the oldest batches' files while the folder holds more than `maxBytes`; returns the
    /// batch ids removed.
    func trim() throws(SpoolError) -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let folder = try directory()
        struct Entry {
            var stem: String
            var bytes = 0
            var newest = Date.distantPast
            var files: [String] = []
        }
        var entries: [String: Entry] = [:]
        for file in try folder.files() {
            let stem = String(file.prefix { $0 != "." })
            let attributes = try? FileManager.default.attributesOfItem(atPath: folder.path(of: file))
            var entry = entries[stem] ?? Entry(stem: stem)
            entry.bytes += (attributes?[.size] as? NSNumber)?.intValue ?? 0
            entry.newest = max(entry.newest, attributes?[.modificationDate] as? Date ?? .distantPast)
            entry.files.append(file)
            entries[stem] = entry
        }
        let oldestFirst = entries.values.sorted { ($0.newest, $0.stem) < ($1.newest, $1.stem) }
        var total = oldestFirst.reduce(0) { $0 + $1.bytes }
        var removed: [String] = []
        for entry in oldestFirst.dropLast() where total > maxBytes {
            for file in entry.files { try folder.remove(file) }
            total -= entry.bytes
            removed.append(entry.stem)
        }
        if !removed.isEmpty { try folder.sync() }
        return removed
    }
}

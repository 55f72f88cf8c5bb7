import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The spool's directory on disk, through POSIX calls: every change a crash must not undo is followed
/// by `fsync` of the file and, when names change, of the directory.
struct SpoolDirectory: Sendable {
    let path: String

    /// Opens the directory, creating it (mode 0700) if it is missing.
    init(path: String) throws(SpoolError) {
        self.path = path
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SpoolError(.io, "spool: cannot create directory '\(path)': \(error.localizedDescription)")
        }
    }

    func path(of file: String) -> String { path + "/" + file }

    func files() throws(SpoolError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw SpoolError(.io, "spool: cannot list '\(path)': \(error.localizedDescription)")
        }
    }

    /// Creates `file` for appending; it must not exist yet.
    func create(_ file: String) throws(SpoolError) -> Int32 {
        let fd = open(path(of: file), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("create", path(of: file)) }
        return fd
    }

    /// Writes all of `bytes` at the end of `fd`: safe from a crash of the process once this returns,
    /// from a crash of the machine once the file is `flush`ed. `file` names it in an error only
    /// (building the name was most of the cost of an append).
    func append(_ bytes: ArraySlice<UInt8>, to fd: Int32, file: @autoclosure () -> String) throws(SpoolError) {
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        guard failure == 0 else { throw .io("write", path(of: file()), errno: failure) }
    }

    /// Forces what was appended to `fd` to disk.
    func flush(_ fd: Int32, file: String) throws(SpoolError) {
        guard fsync(fd) == 0 else { throw .io("fsync", path(of: file)) }
    }

    /// Cuts `file` back to its first `length` bytes, durably.
    func truncate(_ file: String, to length: Int) throws(SpoolError) {
        let fd = open(path(of: file), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("open", path(of: file)) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else { throw .io("truncate", path(of: file)) }
    }

    /// The whole file, or nil if it does not exist.
    func contents(of file: String) throws(SpoolError) -> [UInt8]? {
        try Self.readWhole(path(of: file))
    }

    /// The file at `path` read to its end, or nil if it does not exist. Also for /proc files, whose
    /// size reads as 0: Foundation's `String(contentsOfFile:)` makes one read of those and got
    /// the first 4 kB of /proc/self/smaps.
    static func readWhole(_ path: String) throws(SpoolError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw .io("open", path)
        }
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io("read", path)
            }
            if count == 0 { return contents }
            contents.append(contentsOf: chunk[..<count])
        }
    }

    /// Renames without syncing the directory; call `sync()` after the last change of a step.
    func move(_ file: String, to newFile: String) throws(SpoolError) {
        guard rename(path(of: file), path(of: newFile)) == 0 else { throw .io("rename", path(of: file)) }
    }

    /// Removes `file` if it exists, without syncing the directory.
    func remove(_ file: String) throws(SpoolError) {
        guard unlink(path(of: file)) == 0 || errno == ENOENT else { throw .io("remove", path(of: file)) }
    }

    /// Makes the directory's entries (creations, renames, removals) durable.
    func sync() throws(SpoolError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io("fsync", path) }
    }

    /// Replaces `file` with `bytes` so that a crash leaves either the old or the new contents.
    func replace(_ file: String, with bytes: [UInt8]) throws(SpoolError) {
        let temporary = file + ".tmp"
        try remove(temporary)
        let fd = try create(temporary)
        do {
            try append(bytes[...], to: fd, file: temporary)
            close(fd)
        } catch {
            close(fd)
            throw error
        }
        try move(temporary, to: file)
        try sync()
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A spool operation the disk refused, or a spool directory whose files cannot be read.
public struct SpoolError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A system call on the spool directory failed (disk full, permissions, I/O error).
        public static let io = Code("io")
        /// The spool's state file is not what this version writes.
        public static let unreadableState = Code("unreadable_state")

        public var description: String { name }
    }

    public var code: Code
    public var description: String
    /// For a failed `ResultSpool.append`: how many of its results were not written (the others
    /// are spooled).
    public var unwrittenResults = 0
    /// The disk (or the user's quota) is full: dropping the oldest batch files makes room.
    public var isDiskFull = false

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// The failure of `operation` on `path`, described with the current `errno`.
    static func io(_ operation: String, _ path: String, errno number: Int32 = errno) -> SpoolError {
        var error = SpoolError(.io, "spool: \(operation) '\(path)': \(String(cString: strerror(number)))")
        error.isDiskFull = number == ENOSPC || number == EDQUOT
        return error
    }
}

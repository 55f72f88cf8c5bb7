import Foundation
import SondaConfig

/// Appends checkpoint lines where `audit: checkpoints:` says: a file opened for each line with
/// O_APPEND (so nothing before it is overwritten, even by a second writer) and fsynced before the
/// line counts as written; stdout; or syslog (facility auth, as `sonda-aggregator`), for
/// journald or rsyslog to forward to another machine.
struct CheckpointOutput: Sendable {
    let destination: AuditConfig.Destination

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// openlog keeps the pointer it is given for the life of the process.
    nonisolated(unsafe) private static let ident = strdup("sonda-aggregator")

    init(_ destination: AuditConfig.Destination) {
        self.destination = destination
        switch destination {
        case .syslog: openlog(Self.ident, LOG_PID | LOG_NDELAY, LOG_AUTH)
        // A reader of stdout that went away is a failed checkpoint (EPIPE, a fault), not the end of
        // the process; the HTTP server's sockets never raise SIGPIPE anyway.
        case .stdout: signal(SIGPIPE, SIG_IGN)
        case .file: break
        }
    }

    func append(_ line: String) throws {
        switch destination {
        case .file(let path): try Self.append(line + "\n", to: path)
        case .stdout: try Self.write(line + "\n", to: STDOUT_FILENO, named: "stdout", sync: false)
        case .syslog: line.withCString { text in withVaList([text]) { vsyslog(LOG_NOTICE, "%s", $0) } }
        }
    }

    private static func append(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Failure(description: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try write(text, to: fd, named: "'\(path)'", sync: true)
    }

    /// One write of the whole line (a short write is a failure: the file may now end in part of
    /// a line, which `audit verify` reports), then fsync.
    private static func write(_ text: String, to fd: Int32, named name: String, sync: Bool) throws {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            let reason = written < 0 ? String(cString: strerror(errno)) : "only \(written) of \(bytes.count) bytes"
            throw Failure(description: "cannot write to \(name): \(reason)")
        }
        guard !sync || fsync(fd) == 0 else {
            throw Failure(description: "cannot fsync \(name): \(String(cString: strerror(errno)))")
        }
    }
}

import Foundation

/// Gives back the pages of code and constants that starting the agent touched and running it
/// does not use, as the kernel frees its `__init` memory after boot; and, once the agent is idle
/// (everything sent, nothing due for a minute), those that probing and reporting touched.
///
/// Starting touches a lot of read-only file-backed memory once: argument parsing, YAML and its
/// regular expressions (ICU), the initialisers of Foundation and of libcurl's dependencies. The
/// kernel maps whole page-cache folios around each of those faults, and they stay mapped, and
/// counted in the agent's RSS, for as long as it runs. `MADV_DONTNEED` on a private file mapping
/// that was never written only unmaps its pages: they stay in the page cache, and the code the
/// daemon runs faults back in at its next use. Measured with 50 checks (bench/agent-daemon.sh):
/// 7.7 MB after start-up, 9 MB idle with the checks hourly, 17 (HTTP) to 24 MB (HTTPS) probing
/// every 200 ms; 25, 25 and 24–30 MB while the libraries' pages were never released. Writable and
/// relocated (RELRO) mappings are left alone: there `MADV_DONTNEED` would discard the process's
/// own changes.
public enum StartupPages {
    /// Unmaps every read-only file mapping of this process that holds no private page; the kB
    /// that were resident in them.
    @discardableResult
    public static func release() -> Int {
        guard let bytes = (try? SpoolDirectory.readWhole("/proc/self/smaps")) ?? nil else { return 0 }
        let smaps = String(decoding: bytes, as: UTF8.self)
        var releasable: [(start: UInt, end: UInt, residentKB: Int)] = []
        var current: (start: UInt, end: UInt, candidate: Bool, residentKB: Int)?
        func finish() {
            if let vma = current, vma.candidate { releasable.append((vma.start, vma.end, vma.residentKB)) }
            current = nil
        }
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":"), fields.count >= 5 {
                finish()
                let bounds = range.split(separator: "-")
                guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16)
                else { continue }
                // "r-xp" or "r--p", backed by a file (not [heap], [stack], [vdso] or anonymous).
                let permissions = fields[1]
                let isFile = fields.count >= 6 && fields[5].hasPrefix("/")
                current = (start, end, isFile && !permissions.contains("w") && permissions.hasSuffix("p"), 0)
            } else if fields.count >= 2, let kB = Int(fields[1]) {
                switch fields[0] {
                case "Rss:": current?.residentKB = kB
                // A page of this mapping was copied on write (relocations before RELRO's mprotect).
                case "Anonymous:", "AnonHugePages:", "Swap:": if kB > 0 { current?.candidate = false }
                default: break
                }
            }
        }
        finish()
        var released = 0
        for vma in releasable where vma.residentKB > 0 {
            if madvise(UnsafeMutableRawPointer(bitPattern: vma.start), Int(vma.end - vma.start), MADV_DONTNEED) == 0 {
                released += vma.residentKB
            }
        }
        return released
    }
}

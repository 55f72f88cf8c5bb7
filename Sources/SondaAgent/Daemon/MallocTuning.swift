import Glibc

/// glibc's malloc keeps freed blocks in a per-thread cache, 7 of each size by default; past that
/// they go back to the thread's arena, which takes a lock once a process has a second thread (a
/// single-threaded one, like the C libcurl loop, skips it). An HTTPS probe frees thousands of
/// OpenSSL blocks of the same few sizes, so most of them took that path: with 1 000 a size, the
/// daemon runs 5 % fewer instructions per HTTPS probe (callgrind, bench/daemon-instructions.sh) and
/// about 2 % less CPU. The price is resident memory: a thread keeps, of each size, as many blocks
/// as it once freed without allocating them again (up to the count), which malloc counts as in
/// use, so RSS climbs as the threads' largest bursts come, sooner on a loaded machine, and stops:
/// 3.5 MB over glibc's 7 on a quiet machine, 7.5 MB with the workers starved of CPU (measured in
/// docs/reliability.md, the soak).
///
/// The count is a glibc tunable, read only at start-up from the environment (no `mallopt` for it),
/// so `sonda-agent run` executes itself again with it set.
public enum MallocTuning {
    static let tunable = "glibc.malloc.tcache_count"
    static let count = 1000

    /// Re-executes this binary with the tunable added to GLIBC_TUNABLES, unless that already
    /// names it (set by the operator, or by this function before the exec). Returns only if it
    /// did not re-execute.
    public static func reexecutingIfNeeded() {
        let current = getenv("GLIBC_TUNABLES").map { String(cString: $0) }
        if let current, current.contains(tunable) { return }
        setenv("GLIBC_TUNABLES", (current.map { $0 + ":" } ?? "") + "\(tunable)=\(count)", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // No /proc: run with glibc's defaults, and leave the environment as it was.
        if let current { setenv("GLIBC_TUNABLES", current, 1) } else { unsetenv("GLIBC_TUNABLES") }
    }
}

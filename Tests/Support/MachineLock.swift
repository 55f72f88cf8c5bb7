import Foundation

/// An exclusive advisory lock (flock) on a file, for a test that changes the machine itself
/// (installs packages) while other test runs may share the machine. Released by `release()` or
/// when the process ends, so a run that dies never leaves it held.
public final class MachineLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Waits up to `timeout` for the lock on `path` (created if missing), polling so that no Swift
    /// concurrency thread blocks meanwhile; throws if another holder keeps it longer.
    public static func acquire(_ path: String, timeout: Duration) async throws -> MachineLock {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw ChildProcess.SpawnFailed(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        let locked = await eventually(timeout: timeout, every: .milliseconds(500)) {
            flock(descriptor, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            close(descriptor)
            throw ChildProcess.SpawnFailed(description: "another test run held \(path) for longer than \(timeout)")
        }
        return MachineLock(descriptor: descriptor)
    }

    public func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

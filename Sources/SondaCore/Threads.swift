import Foundation

/// Starts a plain thread that carries `name` to the kernel.
public func startThread(_ name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        nameCurrentThread(name)
        body()
    }
    if let stackSize { thread.stackSize = stackSize }
    thread.start()
}

/// Names the calling thread as `top -H`, `ps -L` and perf show it (at most 15 bytes are kept):
/// Foundation's `Thread.name` does not reach the kernel on Linux, so the agent's threads showed
/// as the Dispatch thread that started them.
/// (`pthread_setname_np` is not in Swift's Glibc module; the kernel takes the name from here too.)
public func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    guard fd >= 0 else { return }
    _ = Array(name.utf8.prefix(15)).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

import Foundation

/// A loopback port for a server that must be told its port on the command line (Prometheus,
/// Alertmanager). It is drawn below the kernel's ephemeral range (32768–60999), so no outgoing
/// connection of a parallel test can take it between this check and the server's bind; servers
/// that can bind port 0 and report it should do that instead.
public func unusedLoopbackPort() throws -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<32_768)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let free = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        if free { return port }
    }
    throw ChildProcess.SpawnFailed(description: "no free loopback port in 20000–32767")
}

/// A loopback port where a connection is refused for as long as this lives: bound, never
/// listening, so no server of a parallel test can take the port meanwhile (a port merely closed
/// once could be, and a test expecting "refused" then met its server).
public final class RefusingPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw ChildProcess.SpawnFailed(description: "cannot bind a loopback port: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// A loopback port that refuses every connection for the rest of the test process: bound and never
/// listening, so no other process can take it. A port from `unusedLoopbackPort()` is free only when
/// chosen: in ci46 another test run bound one that a test used as "closed", and the probe got an
/// answer instead of `connect_refused`.
public func refusedLoopbackPort() throws -> Int { try refusedPort.get().port }

private let refusedPort = Result { try RefusingPort() }

/// Starts a server that binds the port it is given, on a free loopback port, and again on another
/// when it exits instead of listening: a port from `unusedLoopbackPort()` is free only when chosen
/// (ci50: the test run beside took Prometheus's port first). The proxy labs do the same, blocking,
/// in `ProxyLab.listening`.
public func startListening(_ start: (Int) throws -> BackgroundProcess) async throws -> (
    process: BackgroundProcess, port: Int
) {
    for _ in 0..<5 {
        let port = try unusedLoopbackPort()
        let process = try start(port)
        var listening = false
        _ = await eventually(every: .milliseconds(50)) {
            if process.exitStatus != nil { return true }
            if let client = try? RawHTTPClient(port: port, timeout: .seconds(1)) {
                client.close()
                listening = process.exitStatus == nil
            }
            return listening
        }
        if listening { return (process, port) }
    }
    throw ChildProcess.SpawnFailed(description: "a server did not listen on loopback in 5 tries")
}

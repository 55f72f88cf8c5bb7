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

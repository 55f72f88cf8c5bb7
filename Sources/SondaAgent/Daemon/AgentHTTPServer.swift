import Foundation
import SondaCore

/// The agent's small HTTP listener for `/health` and `/metrics`: one thread, one request per
/// connection, nothing else. Bind it to loopback or a scrape network only.
public final class AgentHTTPServer: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    private let metrics: AgentMetrics

    public struct BindFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// `address` is "host:port"; port 0 picks a free one.
    public init(address: String, metrics: AgentMetrics) throws {
        self.metrics = metrics
        let parts = address.split(separator: ":")
        guard parts.count == 2, let requested = UInt16(parts[1]) else {
            throw BindFailed(description: "listen address must be host:port, got '\(address)'")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = requested.bigEndian
        let host = parts[0] == "localhost" ? "127.0.0.1" : String(parts[0])
        guard inet_pton(AF_INET, host, &sin.sin_addr) == 1 else {
            Glibc.close(fd)
            throw BindFailed(description: "listen address '\(address)' is not an IPv4 host:port")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw BindFailed(description: "cannot listen on \(address): \(reason)")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: sin.sin_port))
        startThread("sonda-http") { [self] in serve() }
    }

    public func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(client, &buffer, buffer.count)
            let line = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).prefix { $0 != "\r" && $0 != "\n" } : ""
            let parts = line.split(separator: " ")
            let (status, type, body) = respond(method: parts.first.map(String.init) ?? "", path: parts.count > 1 ? String(parts[1]) : "")
            let head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            let bytes = Array((head + body).utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                sent += n
            }
            Glibc.close(client)
        }
    }

    private func respond(method: String, path: String) -> (String, String, String) {
        guard method == "GET" else { return ("405 Method Not Allowed", "text/plain", "GET only\n") }
        switch path.split(separator: "?").first.map(String.init) ?? path {
        case "/health":
            return metrics.isAlive(within: 30)
                ? ("200 OK", "text/plain", "ok\n") : ("503 Service Unavailable", "text/plain", "scheduler stalled\n")
        case "/metrics":
            return ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render())
        default:
            return ("404 Not Found", "text/plain", "not found: try /metrics or /health\n")
        }
    }
}

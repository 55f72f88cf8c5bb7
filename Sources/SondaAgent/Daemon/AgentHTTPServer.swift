import Foundation
import SondaCore

/// The agent's small HTTP listener for `/health` and `/metrics`, bound to loopback or a scrape
/// network only: one thread, one request per connection.
///
/// The thread serves every connection at once from one `poll` loop over non-blocking sockets, so
/// a scraper that stalls cannot hold up another: a request must arrive within
/// `Limits.requestTimeout` and its answer leave within `Limits.responseTimeout`, or the
/// connection is closed; past `Limits.maxConnections` the connection that has waited longest for
/// its request is closed to make room. A peer that resets the connection costs a failed send
/// (`MSG_NOSIGNAL`: no SIGPIPE), never the process. Nothing here runs on the probe threads.
public final class AgentHTTPServer: @unchecked Sendable {
    public struct Limits: Sendable {
        public var requestTimeout: Duration = .seconds(5)
        public var responseTimeout: Duration = .seconds(10)
        public var maxConnections = 64
        public var maxRequestBytes = 8192

        public init() {}
    }

    static let sendBufferBytes: Int32 = 128 << 10

    public let port: Int
    private let fd: Int32
    private let metrics: AgentMetrics
    private let limits: Limits

    public struct BindFailed: Error, CustomStringConvertible {
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private let name: String
            private init(_ name: String) { self.name = name }

            /// `listen:` is not an IPv4 host:port.
            public static let badAddress = Code("bad_address")
            /// The system refused the socket (the port is taken, a privileged port, no such address).
            public static let refused = Code("refused")

            public var description: String { name }
        }

        public var code: Code
        public var description: String
    }

    /// `address` is "host:port"; port 0 picks a free one.
    public init(address: String, metrics: AgentMetrics, limits: Limits = Limits()) throws {
        self.metrics = metrics
        self.limits = limits
        let parts = address.split(separator: ":")
        guard parts.count == 2, let requested = UInt16(parts[1]) else {
            throw BindFailed(code: .badAddress, description: "listen address must be host:port, got '\(address)'")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = requested.bigEndian
        let host = parts[0] == "localhost" ? "127.0.0.1" : String(parts[0])
        guard inet_pton(AF_INET, host, &sin.sin_addr) == 1 else {
            Glibc.close(fd)
            throw BindFailed(code: .badAddress, description: "listen address '\(address)' is not an IPv4 host:port")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 128) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw BindFailed(code: .refused, description: "cannot listen on \(address): \(reason)")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: sin.sin_port))
        startThread("sonda-http") { [self] in serve() }
    }

    /// Stops listening; the thread closes the open connections and ends.
    public func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    private func serve() {
        var connections: [HTTPConnection] = []
        defer {
            for connection in connections { connection.close() }
            Glibc.close(fd)
        }
        while true {
            let now = ContinuousClock.now
            connections.removeAll { connection in
                guard connection.isFinished || connection.deadline <= now else { return false }
                connection.close()
                return true
            }
            var polled = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            polled += connections.map {
                pollfd(fd: $0.fd, events: Int16($0.isAnswering ? POLLOUT : POLLIN), revents: 0)
            }
            let wait = connections.map { $0.deadline }.min().map { max($0 - now, .zero) } ?? .seconds(60)
            let ready = poll(&polled, nfds_t(polled.count), Int32(wait.milliseconds + 1))
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            for (connection, entry) in zip(connections, polled.dropFirst()) where entry.revents != 0 {
                connection.progress(limits: limits, answer: respond)
            }
            let listener = polled[0].revents
            if listener & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return }
            if listener & Int16(POLLIN) != 0 { accepting(into: &connections) }
        }
    }

    /// Takes every connection waiting in the backlog.
    private func accepting(into connections: inout [HTTPConnection]) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            // A fixed send buffer: a scraper that stops reading holds this much of the kernel's
            // memory, not the several megabytes autotuning would grow it to.
            var sendBuffer = Self.sendBufferBytes
            setsockopt(client, SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
            if connections.count >= limits.maxConnections {
                // The one that has waited longest for its request (a slow client's) makes room.
                let oldest = connections.indices.filter { !connections[$0].isAnswering }
                    .min { connections[$0].deadline < connections[$1].deadline }
                connections.remove(at: oldest ?? 0).close()
            }
            connections.append(HTTPConnection(fd: client, deadline: .now + limits.requestTimeout))
        }
    }

    private func respond(method: String, path: String) -> (String, String, String) {
        guard method == "GET" else { return ("405 Method Not Allowed", "text/plain", "GET only\n") }
        switch path.split(separator: "?").first.map(String.init) ?? path {
        case "/health":
            let health = metrics.health()
            let status = health.httpStatus == 200 ? "200 OK" : "503 Service Unavailable"
            return (status, "application/json", health.json + "\n")
        case "/metrics":
            return ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render())
        default:
            return ("404 Not Found", "text/plain", "not found: try /metrics or /health\n")
        }
    }
}

extension Duration {
    fileprivate var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

import Foundation

/// A TCP client on loopback with blocking sockets, for tests that misbehave as a scraper can
/// (trickle a request, reset mid-answer, stop reading) or scrape many at once. Each call blocks
/// its thread: run them with `onThread`.
public struct RawHTTPClient: Sendable {
    public let fd: Int32

    /// Connects to 127.0.0.1:`port`; `receiveBuffer` shrinks the socket's receive buffer first (a
    /// scraper that stops reading then holds up a sender sooner). Reads give up after `timeout`.
    public init(port: Int, receiveBuffer: Int32? = nil, timeout: Duration = generousTimeout) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ChildProcess.SpawnFailed(description: "connect to port \(port): \(reason)")
        }
    }

    /// Sends `text`; false when the peer has closed or reset the connection.
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == bytes.count }
    }

    /// Reads up to `limit` bytes, until the peer closes (or fails, or `timeout` passes). A read
    /// cut short by a signal (a debugger attaching, with SO_RCVTIMEO set) is read again.
    public func read(upTo limit: Int = .max) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while received.count < limit {
            let n = recv(fd, &buffer, min(buffer.count, limit - received.count), 0)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            received += buffer[..<n]
        }
        return received
    }

    /// Reads one answer on a kept-alive connection (its length from `Content-Length`): the status
    /// code and body, or nil when the peer closed or sent something else first.
    public func readResponse() -> (status: Int, body: String)? {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while !received.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            let n = recv(fd, &byte, 1, 0)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { return nil }
            received.append(byte)
        }
        let head = String(decoding: received, as: UTF8.self).lowercased()
        guard let status = Int(head.split(separator: " ").dropFirst().first ?? "") else { return nil }
        let length =
            head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let body = read(upTo: length)
        return body.count == length ? (status, String(decoding: body, as: UTF8.self)) : nil
    }

    /// Whether the peer has answered, closed or reset the connection, looking without waiting.
    public var peerAnsweredOrClosed: Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Closes with a reset instead of a FIN (SO_LINGER 0), as a scraper killed mid-answer does.
    public func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(fd)
    }

    public func close() { Glibc.close(fd) }

    /// One GET; the status code and body of the answer, or nil when there was none.
    public static func get(_ path: String, port: Int) -> (status: Int, body: String)? {
        guard let client = try? RawHTTPClient(port: port) else { return nil }
        defer { client.close() }
        guard client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") else { return nil }
        let text = String(decoding: client.read(), as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n"),
            let status = Int(text.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return (status, String(text[head.upperBound...]))
    }
}

/// Runs blocking `body` on a thread of its own, not on the concurrency pool.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

import Foundation

/// One connection to `AgentHTTPServer` on a non-blocking socket: it reads a request until the
/// blank line that ends its head, then sends the whole answer and is finished. Each `progress`
/// does what the socket allows without blocking.
final class HTTPConnection {
    let fd: Int32
    /// When the connection is closed if it is not finished: first for the request, then for the answer.
    private(set) var deadline: ContinuousClock.Instant
    private var request: [UInt8] = []
    private var answer: [UInt8]?
    private var sent = 0
    private(set) var isFinished = false

    init(fd: Int32, deadline: ContinuousClock.Instant) {
        self.fd = fd
        self.deadline = deadline
    }

    var isAnswering: Bool { answer != nil }

    /// Reads what has arrived, or sends what fits. `answer` makes the response (status line,
    /// content type, body) for a method and path.
    func progress(
        limits: AgentHTTPServer.Limits, answer respond: (_ method: String, _ path: String) -> (String, String, String)
    ) {
        if answer == nil {
            guard receive(limit: limits.maxRequestBytes) else { return }
            let (status, type, body) =
                request.count > limits.maxRequestBytes
                ? ("431 Request Header Fields Too Large", "text/plain", "request too large\n")
                : respond(method(), path())
            let head =
                "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n"
                + "Connection: close\r\n\r\n"
            answer = Array((head + body).utf8)
            deadline = .now + limits.responseTimeout
        }
        send()
    }

    func close() { Glibc.close(fd) }

    /// Reads what is there; true once the request's head is complete (or over `limit`).
    private func receive(limit: Int) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                request += buffer[..<count]
                if Self.headEnds(in: request) || request.count > limit { return true }
                continue
            }
            if count < 0 && (errno == EINTR) { continue }
            // 0: the peer closed before finishing its request; an error: it reset the connection.
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { isFinished = true }
            return false
        }
    }

    private func send() {
        guard let answer else { return }
        while sent < answer.count {
            let n = answer[sent...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 {
                sent += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            break  // reset or closed by the peer: nobody to answer
        }
        isFinished = true
    }

    private func requestLine() -> Substring {
        String(decoding: request.prefix(1024), as: UTF8.self).prefix { $0 != "\r" && $0 != "\n" }
    }

    private func method() -> String { requestLine().split(separator: " ").first.map(String.init) ?? "" }

    private func path() -> String {
        let parts = requestLine().split(separator: " ")
        return parts.count > 1 ? String(parts[1]) : ""
    }

    /// Whether `bytes` hold a blank line (CRLF CRLF, or LF LF from a lenient client).
    static func headEnds(in bytes: [UInt8]) -> Bool {
        var previous: UInt8 = 0
        var lineLength = 0
        for byte in bytes {
            if byte == 0x0A {
                if lineLength == 0 || (lineLength == 1 && previous == 0x0D) { return true }
                lineLength = 0
            } else {
                lineLength += 1
            }
            previous = byte
        }
        return false
    }
}

import CCurl
import Foundation
import SondaCore

/// Says and hears a `tcp` check's exchange on the connection libcurl left open
/// (CURLOPT_CONNECT_ONLY), through `curl_easy_send`/`curl_easy_recv` so TLS stays libcurl's, and
/// times it: `send` (writing `send`; 0 without one), `wait` (until the reply's first byte) and
/// `receive` (until it matched, or was complete without matching).
///
/// Runs on the probe's worker thread, on the handle `perform` just returned from.
struct TCPConversation {
    let easy: CurlEasy
    let exchange: TCPExchange
    /// Monotonic nanoseconds after which the probe has run past its timeout.
    let deadline: UInt64

    /// The agent's phases, in microseconds (nil: not reached or not part of the exchange), and
    /// how it ended.
    struct Outcome {
        var send: Int64?
        var wait: Int64?
        var receive: Int64?
        var reply: [UInt8] = []
        var failure: Failure?
    }

    enum Failure {
        /// The probe ran past its timeout in the phase that was running.
        case timedOut
        /// The server closed the connection (a reply read so far does not match).
        case closed
        /// The reply is complete and does not hold `expect`.
        case mismatch
        /// libcurl could not send or receive.
        case curl(CURLcode)
    }

    /// - Parameter start: when the connection was ready (monotonic nanoseconds).
    func run(from start: UInt64) -> Outcome {
        var outcome = Outcome()
        guard exchange.send != nil || exchange.expect != nil else { return outcome }
        var mark = start
        func lap() -> Int64 {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { mark = now }
            return Int64(now &- mark) / 1000
        }
        guard let socket = activeSocket else {
            outcome.failure = .curl(CURLE_UNSUPPORTED_PROTOCOL)
            return outcome
        }
        if let bytes = exchange.send, !bytes.isEmpty {
            outcome.failure = write(bytes, on: socket)
            outcome.send = lap()
            if outcome.failure != nil { return outcome }
        } else {
            outcome.send = 0
            mark = DispatchTime.now().uptimeNanoseconds
        }
        guard exchange.expect != nil else { return outcome }
        outcome.failure = read(into: &outcome.reply, on: socket)
        outcome.wait = lap()
        if outcome.failure != nil { return outcome }
        while !exchange.matches(outcome.reply) {
            if exchange.replyIsComplete(outcome.reply) {
                outcome.failure = .mismatch
                break
            }
            if let failure = read(into: &outcome.reply, on: socket) {
                outcome.failure = failure
                break
            }
        }
        outcome.receive = lap()
        return outcome
    }

    /// Ends the connection now: the server sees it close, although libcurl keeps the socket in
    /// its cache until it prunes it.
    func close() {
        if let socket = activeSocket { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private var activeSocket: curl_socket_t? {
        var socket: curl_socket_t = CURL_SOCKET_BAD
        guard sonda_getinfo_socket(easy.handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK,
            socket != CURL_SOCKET_BAD
        else { return nil }
        return socket
    }

    private func write(_ bytes: [UInt8], on socket: curl_socket_t) -> Failure? {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = bytes[offset...].withUnsafeBytes { curl_easy_send(easy.handle, $0.baseAddress, $0.count, &sent) }
            switch code {
            case CURLE_OK: offset += sent
            case CURLE_AGAIN: if !ready(socket, for: Int16(POLLOUT)) { return .timedOut }
            default: return .curl(code)
            }
        }
        return nil
    }

    /// Reads what has arrived, waiting for at least one byte; nil once some were appended.
    private func read(into reply: inout [UInt8], on socket: curl_socket_t) -> Failure? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var received = 0
            let code = buffer.withUnsafeMutableBytes {
                curl_easy_recv(easy.handle, $0.baseAddress, $0.count, &received)
            }
            switch code {
            case CURLE_OK where received == 0:
                return .closed
            case CURLE_OK:
                reply.append(contentsOf: buffer[..<received])
                return nil
            case CURLE_AGAIN:
                if !ready(socket, for: Int16(POLLIN)) { return .timedOut }
            default:
                return .curl(code)
            }
        }
    }

    /// Waits until the socket is ready or the deadline passes (false).
    private func ready(_ socket: curl_socket_t, for events: Int16) -> Bool {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return false }
            let milliseconds = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let result = poll(&descriptor, 1, milliseconds)
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return true }  // recv/send will report the error.
        }
    }
}

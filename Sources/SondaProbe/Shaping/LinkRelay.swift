import CCurl
import Foundation
import SondaCore

/// Carries one connection between libcurl's socket and the real upstream socket on its own thread,
/// holding every byte as the emulated link would (`SegmentSchedule`, one per direction).
/// The relay owns both descriptors and closes them when both sides are done or one fails.
/// Under a lossy profile each direction loses segments from its own random seed, drawn per
/// connection, so runs of a probe see different losses as they would on a real link.
///
/// Each direction reads its source only while the link has little waiting to leave: once the
/// segments queued depart more than `lead` ahead (about four bandwidth-delay products), or hold
/// more than `maximumQueuedBytes`, the relay stops reading until they have moved on, and the
/// kernel's flow control holds the sender back. Reading later than a real link would receive
/// changes no time: a segment read before its departure departs when it would have. So a large
/// body on a slow link costs a few hundred kilobytes of memory, not the body.
final class LinkRelay: @unchecked Sendable {
    private struct Pending {
        var bytes: [UInt8]
        var delivery: Double
        var sequence: Int
    }

    /// The most bytes a direction holds however far ahead they depart (a link without a rate
    /// limit, whose window only acknowledgements bound).
    static let maximumQueuedBytes = 4 << 20

    /// One direction: what was read from `source` and waits to be written to `sink`.
    private struct Direction {
        var source: Int32
        var sink: Int32
        var schedule: SegmentSchedule
        var queue: [Pending] = []
        var next = 0
        var sourceClosed = false
        var sinkShut = false
        /// Bytes queued and not yet written to the sink.
        var queuedBytes = 0
        /// When the last segment queued leaves the emulated sender.
        var lastDeparture = -Double.infinity

        var isIdle: Bool { next == queue.count }

        /// When reading may resume, if the queue is too far ahead at `now` (the bytes bound is
        /// lifted by a delivery, which wakes the relay anyway).
        func resumes(after now: Double, lead: Double) -> Double? {
            if queuedBytes > LinkRelay.maximumQueuedBytes { return .infinity }
            return lastDeparture - now > lead ? lastDeparture - lead : nil
        }
    }

    private let listener: Int32
    private let acceptTimeout: Duration
    /// How far ahead of now the queued segments may depart before the relay stops reading.
    let lead: Double
    private var upload: Direction
    private var download: Direction
    private let origin = DispatchTime.now().uptimeNanoseconds

    /// - Parameters:
    ///   - listener: a loopback listener libcurl is about to connect to; the relay accepts once.
    ///   - upstream: the connected socket to the real server.
    init(listener: Int32, upstream: Int32, profile: NetworkProfile, acceptTimeout: Duration) {
        self.listener = listener
        self.acceptTimeout = acceptTimeout
        lead = max(4 * profile.rttMilliseconds / 1000, 0.1)
        let client: Int32 = -1
        let oneWay = profile.rttMilliseconds / 2000
        upload = Direction(
            source: client, sink: upstream,
            schedule: SegmentSchedule(
                oneWayDelaySeconds: oneWay, reverseDelaySeconds: oneWay,
                bitsPerSecond: profile.uplinkKilobitsPerSecond * 1000,
                loss: .random(percent: profile.lossPercent, seed: UInt64.random(in: .min ... .max))))
        download = Direction(
            source: upstream, sink: client,
            schedule: SegmentSchedule(
                oneWayDelaySeconds: oneWay, reverseDelaySeconds: oneWay,
                bitsPerSecond: profile.downlinkKilobitsPerSecond * 1000,
                loss: .random(percent: profile.lossPercent, seed: UInt64.random(in: .min ... .max))))
    }

    func start() {
        startThread("sonda-link", stackSize: 256 << 10) {
            guard self.accept() else { return }
            self.run()
        }
    }

    private var now: Double { Double(DispatchTime.now().uptimeNanoseconds &- origin) / 1e9 }

    /// Takes libcurl's connection; on failure closes everything.
    private func accept() -> Bool {
        defer { close(listener) }
        var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        let timeout = Int64(acceptTimeout.milliseconds * 1e6)
        var client: Int32 = -1
        if sonda_poll_ns(&descriptor, 1, timeout) == 1 { client = Glibc.accept(listener, nil, nil) }
        guard client >= 0 else {
            close(download.source)
            return false
        }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        upload.source = client
        download.sink = client
        return true
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        defer {
            close(upload.source)
            close(download.source)
        }
        while true {
            guard deliver(&upload), deliver(&download) else { return }
            if upload.sourceClosed && download.sourceClosed && upload.isIdle && download.isIdle { return }
            let time = now
            var fds: [pollfd] = []
            var wakes: [Double] = []
            for direction in [upload, download] where !direction.sourceClosed {
                if let resume = direction.resumes(after: time, lead: lead) {
                    wakes.append(resume)
                } else {
                    fds.append(pollfd(fd: direction.source, events: Int16(POLLIN), revents: 0))
                }
            }
            wakes += [upload, download].compactMap { $0.isIdle ? nil : $0.queue[$0.next].delivery }
            let due = wakes.min().flatMap { $0.isFinite ? $0 : nil }
            let timeout = due.map { max(Int64(($0 - time) * 1e9), 0) } ?? -1
            if fds.isEmpty && timeout < 0 { return }
            let ready = sonda_poll_ns(&fds, Int32(fds.count), timeout)
            if ready < 0 && errno != EINTR { return }
            guard ready > 0 else { continue }
            for descriptor in fds where descriptor.revents != 0 {
                if descriptor.fd == upload.source {
                    read(into: &upload, buffer: &buffer)
                } else {
                    read(into: &download, buffer: &buffer)
                }
            }
        }
    }

    private func read(into direction: inout Direction, buffer: inout [UInt8]) {
        let count = buffer.withUnsafeMutableBytes { recv(direction.source, $0.baseAddress, $0.count, 0) }
        guard count > 0 else {
            if count == 0 || (errno != EINTR && errno != EAGAIN) { direction.sourceClosed = true }
            return
        }
        var offset = 0
        for segment in direction.schedule.send(count, at: now) {
            direction.queue.append(
                Pending(
                    bytes: Array(buffer[offset..<offset + segment.bytes]), delivery: segment.delivery,
                    sequence: segment.sequence))
            offset += segment.bytes
            direction.lastDeparture = max(direction.lastDeparture, segment.departure)
        }
        direction.queuedBytes += count
        // A retransmission that three later segments brought forward: still queued, since its old
        // and new delivery times are both after now.
        for segment in direction.schedule.revised {
            guard !direction.isIdle else { break }
            let index = direction.next + segment.sequence - direction.queue[direction.next].sequence
            if direction.queue.indices.contains(index) { direction.queue[index].delivery = segment.delivery }
        }
    }

    /// Writes every segment whose delivery time has come; false when the sink is gone.
    private func deliver(_ direction: inout Direction) -> Bool {
        let time = now
        while !direction.isIdle && direction.queue[direction.next].delivery <= time {
            let ok = direction.queue[direction.next].bytes.withUnsafeBytes { writeAll(direction.sink, $0) }
            guard ok else { return false }
            direction.queuedBytes -= direction.queue[direction.next].bytes.count
            direction.next += 1
        }
        if direction.isIdle && !direction.queue.isEmpty {
            direction.queue.removeAll(keepingCapacity: true)
            direction.next = 0
        } else if direction.next > 256 && direction.next * 2 > direction.queue.count {
            // A long transfer never idles: drop what was delivered.
            direction.queue.removeFirst(direction.next)
            direction.next = 0
        }
        if direction.sourceClosed && direction.isIdle && !direction.sinkShut {
            shutdown(direction.sink, Int32(SHUT_WR))
            direction.sinkShut = true
        }
        return true
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}

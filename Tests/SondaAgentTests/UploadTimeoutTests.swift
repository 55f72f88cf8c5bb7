import Foundation
import SondaProbe
import TestSupport
import Testing

@testable import SondaAgent

/// How long the agent gives a batch's POST (`UploadTimeout`).
@Suite struct UploadTimeoutTests {
    let pool = ProbeWorkerPool(workers: 1)

    @Test func theLastFlushKeepsItsThreeSecondsWhateverTheSize() {
        #expect(UploadTimeout.exiting.total(bytes: 4 << 20) == .seconds(3))
        #expect(UploadTimeout.running.total(bytes: 0) == .seconds(10))
        #expect(UploadTimeout.running.total(bytes: 4 << 20) == .seconds(10 + 4096), "a 4 MiB batch at 8 kbit/s")
    }

    /// A receiver that reads each request's body `rate` bytes a second (through a small receive
    /// buffer, so the sender feels it), then answers 200 with the byte count.
    static let slowReader = """
        import socket, sys, time, os, threading
        rate = int(sys.argv[2])
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind(("127.0.0.1", 0)); s.listen()
        open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        def serve(c):
            head = b""
            while b"\\r\\n\\r\\n" not in head: head += c.recv(1)
            length = int([l for l in head.split(b"\\r\\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
            got = 0
            while got < length:
                got += len(c.recv(min(rate // 10, length - got))); time.sleep(0.1)
            c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%d" % (len(str(got)), got))
        while True:
            c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
        """

    /// A batch that takes longer to send than the agent's 10 s is delivered: the agent gives a
    /// POST 10 s plus its body's time at 8 kbit/s (`UploadTimeout`); a fixed limit cut it off
    /// every time.
    @Test func aSlowUploadIsGivenTheTimeItsSizeNeeds() async throws {
        let directory = NSTemporaryDirectory() + "sonda-poster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let slow = try BackgroundProcess("/usr/bin/python3", ["-c", Self.slowReader, "\(directory)/slow", "40000"])
        defer { slow.signal(SIGKILL) }
        let url = "http://127.0.0.1:\(try await slow.port(writtenTo: "\(directory)/slow"))/v1/results"
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 400_000)  // about 10 s at 40 KB/s

        let cutOff = await pool.withWorker {
            $0.post(url: url, body: body, headers: [], timeout: .seconds(3), caFile: nil)
        }
        #expect(cutOff.transportError != nil, "a fixed 3 s limit cuts a 10 s upload off: \(cutOff)")

        let timeout = UploadTimeout.running.total(bytes: body.count)
        #expect(timeout > .seconds(390), "10 s and 1 s a KiB: \(timeout)")
        let delivered = await pool.withWorker {
            $0.post(url: url, body: body, headers: [], timeout: timeout, caFile: nil)
        }
        #expect(delivered.status == 200 && delivered.body == "400000", "\(delivered)")
    }
}

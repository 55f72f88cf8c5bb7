import Foundation
import SondaProbe
import TestSupport
import Testing

/// Sonda's own requests (the CLI's reads, the agent's batches) read whole answers up to a limit,
/// and say so past it instead of handing back the first part as if it were all.
@Suite struct HTTPPosterTests {
    static let pool = ProbeWorkerPool(workers: 1)

    @Test func aGetReadsTheWholeAnswerUpToTheLimit() async throws {
        let lab = try TLSLab.shared()
        let url = lab.url("http", "/big.bin")  // 500 000 bytes
        let whole = await Self.pool.withWorker { $0.get(url: url, headers: [], timeout: .seconds(60), caFile: nil) }
        #expect(whole.status == 200 && whole.transportError == nil && !whole.tooLarge)
        // Random bytes decode with replacement characters, which are never shorter than what they replace.
        #expect(whole.body.utf8.count >= 500_000, "the whole body, not the first 64 KiB")

        let cut = await Self.pool.withWorker {
            $0.get(url: url, headers: [], timeout: .seconds(60), caFile: nil, maxBodyBytes: 100_000)
        }
        #expect(cut.tooLarge)
        #expect(cut.body.isEmpty, "no part of the answer is handed back as if it were all of it")
        #expect(cut.transportError == "the answer is longer than 100000 bytes")

        let exact = await Self.pool.withWorker {
            $0.get(url: url, headers: [], timeout: .seconds(60), caFile: nil, maxBodyBytes: 500_000)
        }
        #expect(!exact.tooLarge && exact.status == 200, "an answer of exactly the limit is whole")
    }

    /// A receiver that reads each request's body `rate` bytes a second, then answers 200 with the
    /// byte count; with rate 0 it reads the request and never answers.
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
            if rate == 0:
                while c.recv(4096): pass
                return
            got = 0
            while got < length:
                got += len(c.recv(min(rate // 4, length - got))); time.sleep(0.25)
            c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%d" % (len(str(got)), got))
        while True:
            c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
        """

    /// An upload that takes longer than the stall limit goes on while bytes move: a batch on a slow
    /// link is delivered (a fixed total limit of the same length cut it off every time); an
    /// aggregator that reads the batch and never answers is given up after the stall limit, not
    /// after the whole exchange's limit.
    @Test func anUploadStopsWhenNothingMovesNotWhenItIsSlow() async throws {
        let directory = NSTemporaryDirectory() + "sonda-poster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let slow = try BackgroundProcess("/usr/bin/python3", ["-c", Self.slowReader, "\(directory)/slow", "65536"])
        let silent = try BackgroundProcess("/usr/bin/python3", ["-c", Self.slowReader, "\(directory)/silent", "0"])
        defer { for process in [slow, silent] { process.signal(SIGKILL) } }
        let slowURL = "http://127.0.0.1:\(try await slow.port(writtenTo: "\(directory)/slow"))/v1/results"
        let silentURL = "http://127.0.0.1:\(try await silent.port(writtenTo: "\(directory)/silent"))/v1/results"
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 400_000)  // about 6 s at 64 KiB/s

        let cutOff = await Self.pool.withWorker {
            $0.post(url: slowURL, body: body, headers: [], timeout: .seconds(3), caFile: nil)
        }
        #expect(cutOff.transportError != nil, "a fixed 3 s limit cuts a 6 s upload off: \(cutOff)")

        let delivered = await Self.pool.withWorker {
            $0.post(url: slowURL, body: body, headers: [], timeout: .seconds(120), stalledAfter: .seconds(3), caFile: nil)
        }
        #expect(delivered.status == 200 && delivered.body == "400000", "\(delivered)")

        let started = ContinuousClock.now
        let unanswered = await Self.pool.withWorker {
            $0.post(url: silentURL, body: body, headers: [], timeout: .seconds(120), stalledAfter: .seconds(1), caFile: nil)
        }
        let waited = ContinuousClock.now - started
        #expect(unanswered.transportError != nil, "\(unanswered)")
        #expect(waited < .seconds(60), "given up once nothing moved, not after 120 s: \(waited)")
    }
}

import Foundation
import TestSupport
import Testing

/// `serve` against clients that hold connections: `limits:` bounds how long a request head may
/// take and how many connections are served at once, so slow or idle clients neither hold up
/// the others nor keep their sockets for ever.
@Suite struct AggregatorLimitsTests {
    /// A running `serve` with `limits`, its port and its directory.
    static func serve(limits: String) async throws -> (BackgroundProcess, Int, String) {
        let directory = NSTemporaryDirectory() + "sonda-limits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
        listen: 127.0.0.1:0
        database: sonda.sqlite
        agents: []
        limits: \(limits)
        """.write(toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(
            AggregatorEndToEndTests.aggregatorBinary,
            ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"])
        return (serve, try await serve.port(writtenTo: "\(directory)/port"), directory)
    }

    @Test func slowAndIdleClientsAreCutOffAndHoldUpNoOneElse() async throws {
        let (serve, port, directory) = try await Self.serve(limits: "{request_timeout: 1s}")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Five clients that send part of a request head and stop, and five that send nothing.
        let slow = try (0..<5).map { _ in try RawHTTPClient(port: port) }
        let idle = try (0..<5).map { _ in try RawHTTPClient(port: port) }
        for client in slow { #expect(client.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaa")) }
        defer { for client in slow + idle { client.close() } }

        let health = await onThread { RawHTTPClient.get("/health", port: port) }
        #expect(health?.status == 200, "answered beside them: \(String(describing: health))")
        #expect(await eventually { (slow + idle).allSatisfy(\.peerAnsweredOrClosed) }, "all are cut off")
        let answers = await onThread { (slow + idle).map { String(decoding: $0.read(), as: UTF8.self) } }
        #expect(answers.allSatisfy { !$0.contains("200 OK") }, "none got an answer: \(answers)")

        // A kept-alive connection is closed the same way once idle past the timeout.
        let kept = try RawHTTPClient(port: port)
        defer { kept.close() }
        #expect(kept.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
        let first = await onThread { kept.readResponse() }
        #expect(first?.status == 200)
        #expect(await eventually { kept.peerAnsweredOrClosed }, "closed once idle")
        #expect(await onThread { kept.read() }.isEmpty, "closed, with nothing more sent")

        serve.signal(SIGTERM)
        #expect(await serve.wait() == 0, "\(serve.log)")
    }

    @Test func connectionsPastTheLimitWaitForAFreeOne() async throws {
        let (serve, port, directory) = try await Self.serve(limits: "{max_connections: 2, request_timeout: 1m}")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let holders = try (0..<2).map { _ in try RawHTTPClient(port: port) }
        for holder in holders {
            #expect(holder.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
            #expect(await onThread { holder.readResponse() }?.status == 200, "kept alive after its answer")
        }
        // The third connection is in the backlog: its request is read only once one of the two
        // others closes. (A wrong limit answers it at once; a slow machine only answers it later.)
        let third = try RawHTTPClient(port: port)
        defer { third.close() }
        #expect(third.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(!third.peerAnsweredOrClosed, "not served while two connections are open")
        holders[0].close()
        let answer = await onThread { third.readResponse() }
        #expect(answer?.status == 200, "served once one closed")
        holders[1].close()

        serve.signal(SIGTERM)
        #expect(await serve.wait() == 0, "\(serve.log)")
    }
}

import Foundation
import SondaCore
import SondaHTTPServer
import TestSupport
import Testing

@testable import SondaAgent

/// The agent's listener in-process, where its limits can be made short: `/health` says why it
/// fails; below, a scraper that stops reading a large answer holds up no other scrape and is cut off.
@Suite struct AgentHTTPServerTests {
    /// The TCP state (as /proc/net/tcp writes it: 01 established) of the loopback socket between
    /// these ports, nil once it is gone.
    static func tcpState(local: Int, remote: Int) -> String? {
        // Read to the end: the file has no size to go by.
        let bytes = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/net/tcp")).readToEnd()) ?? nil
        let table = String(decoding: bytes ?? Data(), as: UTF8.self)
        let hex = { (port: Int) in String(format: ":%04X", port) }
        return table.split(separator: "\n").lazy.map { $0.split(separator: " ") }
            .first { $0.count > 3 && $0[1].hasSuffix(hex(local)) && $0[2].hasSuffix(hex(remote)) }
            .map { String($0[3]) }
    }

    static func localPort(of fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func healthIsJSONWithTheFaultsThatPersist() async throws {
        let metrics = AgentMetrics()
        let server = try await AgentHTTPServer.start(address: "127.0.0.1:0", metrics: metrics)
        // The scheduler's tick just before the request, on the same thread: health calls a
        // scheduler stalled 30 s after its last tick, and a busy test process can take that long
        // to come back to this task between two awaits.
        let ok = await onThread {
            metrics.scheduled(skipped: 0)
            return RawHTTPClient.get("/health", port: server.port)
        }
        #expect(ok?.status == 200 && ok?.body == #"{"status":"ok"}"# + "\n")

        metrics.faults.record(.spoolWrite, "spool: write '/var/lib/sonda/spool/x.open': No space left on device")
        let failing = await onThread { RawHTTPClient.get("/health", port: server.port) }
        #expect(failing?.status == 503)
        #expect(failing?.body.contains(#""status":"failing""#) == true, "\(failing?.body ?? "")")
        #expect(failing?.body.contains("No space left on device") == true, "\(failing?.body ?? "")")

        let stalled = AgentMetrics()
        let idle = try await AgentHTTPServer.start(address: "127.0.0.1:0", metrics: stalled)
        let never = await onThread { RawHTTPClient.get("/health", port: idle.port) }
        #expect(never?.status == 503 && never?.body.contains(#""cause":"scheduler_stalled""#) == true)
        await idle.close()
        await server.close()
    }
}

/// A 1 s response deadline, which a scrape that keeps reading must beat: in `make test`'s serial
/// phase (Makefile, TIMING_SUITES), since with two cores shared by hundreds of tests the reading
/// thread can wait longer than that for a core.
@Suite struct AgentScrapeDeadlineTests {
    @Test func aScraperThatStopsReadingIsCutOffAndHoldsUpNoOtherScrape() async throws {
        let metrics = AgentMetrics()
        for index in 0..<1000 { metrics.record(AgentMetricsTests.result(check: "check-\(index)")) }
        var limits = ServerLimits()
        limits.responseTimeout = .seconds(1)
        let server = try await AgentHTTPServer.start(address: "127.0.0.1:0", metrics: metrics, limits: limits)
        defer { Task { await server.close() } }
        let size = metrics.render().utf8.count
        try #require(size > 512 << 10, "an answer larger than the socket buffers: \(size) bytes")

        let stalled = try RawHTTPClient(port: server.port, receiveBuffer: 4096)
        defer { stalled.close() }
        stalled.send("GET /metrics HTTP/1.1\r\n\r\n")
        let other = await onThread { RawHTTPClient.get("/metrics", port: server.port) }
        #expect(other?.status == 200 && other?.body.utf8.count == size, "another scrape gets the whole answer")

        // The agent gives up on the stalled one: its end of the connection leaves ESTABLISHED,
        // and what the reader gets then is cut short.
        let local = AgentHTTPServerTests.localPort(of: stalled.fd)
        let cut = await eventually(every: .milliseconds(50)) {
            AgentHTTPServerTests.tcpState(local: server.port, remote: local) != "01"
        }
        #expect(cut, "still \(AgentHTTPServerTests.tcpState(local: server.port, remote: local) ?? "gone") after \(generousTimeout)")
        let received = await onThread { stalled.read() }
        #expect(received.count < size, "cut off after \(received.count) of \(size) bytes")
    }
}

/// Holds every thread of the concurrency pool, so every other test in the process waits for it:
/// it runs in `make test`'s serial phase (Makefile, TIMING_SUITES). In the parallel phase, with the
/// pool busy, taking all its threads took 60 s once, and the test beside it found its scheduler tick
/// 30 s old.
@Suite struct AgentHealthWithStuckPoolTests {
    /// The listener's tasks run on its own thread: with every thread of the global executor
    /// blocked (in the agent: its one task thread), `/health` still answers and says why.
    @Test func healthAnswersWhileEveryOtherTaskIsStuck() async throws {
        let metrics = AgentMetrics()
        let server = try await AgentHTTPServer.start(address: "127.0.0.1:0", metrics: metrics)
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            Task.detached {
                started.signal()
                release.wait()
            }
        }
        let answer = await onThread {
            // Once every thread of the pool is held, no task of the test's could answer.
            for _ in 0..<threads { started.wait() }
            defer { for _ in 0..<threads { release.signal() } }
            return RawHTTPClient.get("/health", port: server.port)
        }
        #expect(
            answer?.status == 503 && answer?.body.contains("scheduler_stalled") == true, "\(String(describing: answer))"
        )
        await server.close()
    }
}

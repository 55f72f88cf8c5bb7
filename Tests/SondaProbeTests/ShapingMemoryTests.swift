import Foundation
import SondaCore
import SondaProbe
import Synchronization
import TestSupport
import Testing

/// A large body behind a slow emulated link costs the relay a bounded amount of memory: it reads
/// the server only as fast as the link lets the bytes go, instead of queueing the whole body.
/// Measures wall time and this process's memory, so it runs in the serial timing phase.
@Suite(.serialized) struct ShapingMemoryTests {
    /// Resident memory of this process, bytes.
    static func residentBytes() -> Int {
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The highest resident memory seen, sampled on a thread of its own until `stop`.
    final class PeakMemory: Sendable {
        private let state = Mutex((peak: 0, stopped: false))

        init() {
            Thread.detachNewThread { [self] in
                while !state.withLock({ $0.stopped }) {
                    let now = ShapingMemoryTests.residentBytes()
                    state.withLock { $0.peak = max($0.peak, now) }
                    usleep(10_000)
                }
            }
        }

        func stop() -> Int {
            state.withLock {
                $0.stopped = true
                return $0.peak
            }
        }
    }

    @Test func aFiftyMegabyteBodyOnASlowLinkIsNotBufferedWhole() async throws {
        let directory = NSTemporaryDirectory() + "sonda-body-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bodyBytes = 50_000_000
        _ = FileManager.default.createFile(atPath: directory + "/body.bin", contents: Data(count: bodyBytes))
        let server = try BackgroundProcess(
            "/usr/bin/env",
            ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory])
        var port: Int?
        _ = await eventually(every: .milliseconds(50)) {
            port = server.log.firstMatch(of: /port (\d+)/).flatMap { Int($0.1) }
            return port != nil || server.exitStatus != nil
        }
        let url = "http://127.0.0.1:\(try #require(port, "\(server.log)"))/body.bin"

        // 3G's 300 ms round trip, at 40 Mbit/s instead of 1.6 so that the transfer takes ten
        // seconds, not four minutes: the relay's code path is the same, and the body still
        // arrives from the server far faster than the link lets it go.
        let link = NetworkProfile(
            name: "3G-at-40M", rttMilliseconds: 300, downlinkKilobitsPerSecond: 40_000, uplinkKilobitsPerSecond: 768,
            source: "test")
        let pool = ProbeWorkerPool(workers: 1)
        let before = Self.residentBytes()
        let peak = PeakMemory()
        let result = await pool.probe(
            ProbeRequest(url: url, timeout: .seconds(600), maxBodyBytes: 64 << 20, profile: link))
        let grown = peak.stop() - before
        #expect(result.ok, "\(result.error?.message ?? "")")
        #expect(result.http?.bodyBytes == bodyBytes)
        // The link's pace: at least the body's bits at 40 Mbit/s (a loaded machine only adds).
        let receive = result.phases.receive ?? 0
        #expect(receive > 9_500, "receive \(receive) ms")
        #expect(grown < 24 << 20, "memory grew by \(grown >> 20) MB while relaying a 48 MB body")
    }
}

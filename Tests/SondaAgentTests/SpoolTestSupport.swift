import Foundation
import SondaAgent
import SondaCore
import Synchronization

/// A clock the test moves by hand; the spool only reads it.
final class SpoolTestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let current = Mutex(Instant(offset: .zero))
    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .zero }

    func advance(by duration: Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        advance(by: now.duration(to: deadline))
    }
}

/// A fresh directory under the system's temporary directory, removed with the value.
final class SpoolTestDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "sonda-spool-" + UUID().uuidString
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// The batch file a still-running process would be appending to.
    func openBatchFile() -> String? {
        files().first { $0.hasSuffix(".open") }.map { path + "/" + $0 }
    }

    func sealedBatchFiles() -> [String] {
        files().filter { $0.hasSuffix(".jsonl") }.map { path + "/" + $0 }
    }

    /// Appends raw bytes to a file, as a process killed in the middle of a write leaves it.
    func appendRaw(_ bytes: [UInt8], to file: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }
}

enum SpoolSamples {
    /// Results whose JSON lines all have the same length, with ids `r-000001`, `r-000002`, …
    static func results(_ numbers: ClosedRange<Int>) -> [ProbeResult] {
        numbers.map { number in
            let digits = String(number)
            return ProbeResult(
                id: "r-" + String(repeating: "0", count: 6 - digits.count) + digits, check: "api-health",
                agent: "fra-1", region: "eu-central", profile: "fiber",
                startedAt: Date(timeIntervalSince1970: 1_795_428_000),
                error: nil, phases: PhaseTimings(dns: 1, connect: 2, tls: 5, send: 1, wait: 20, receive: 1, total: 30),
                http: HTTPInfo(
                    status: 200, version: "2", redirects: 0, redirectMilliseconds: 0, bodyBytes: 512,
                    remoteIP: "10.0.0.7"))
        }
    }

    static func ids(_ numbers: ClosedRange<Int>) -> [String] { results(numbers).map(\.id) }

    static var lineLength: Int {
        var writer = ResultJSONWriter()
        return writer.line(results(1...1)[0]).count
    }
}

extension ResultSpool {
    /// Takes and acknowledges every batch, as a reporter whose aggregator always answers 200.
    func drain(force: Bool = true) throws -> [SpoolBatch] {
        var batches: [SpoolBatch] = []
        while let batch = try nextBatch(force: force) {
            batches.append(batch)
            try acknowledge(batch)
        }
        return batches
    }
}

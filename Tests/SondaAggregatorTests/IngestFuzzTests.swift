import Foundation
import SondaCore
import Testing

@testable import SondaAggregator

/// A seeded generator of mutated batches and signature headers: every input is either accepted or
/// refused with a 4xx `AggregatorError`; nothing crashes or hangs. (A short run here; raise
/// SONDA_FUZZ_ITERATIONS for the long one.)
@Suite struct IngestFuzzTests {
    static let iterations = ProcessInfo.processInfo.environment["SONDA_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 20_000

    static let seed: [UInt8] = {
        let result = ProbeResult(
            check: "c", agent: "a", region: "r", profile: "p", endpointClass: "authentication",
            startedAt: Date(timeIntervalSince1970: 1_790_000_000), error: ProbeError(.timeout, "t"),
            phases: PhaseTimings(dns: 1, connect: 2, tls: 3, send: 4, wait: 5, receive: 6, total: 21),
            http: HTTPInfo(status: 200, version: "1.1", redirects: 0, redirectMilliseconds: 0, bodyBytes: 3, remoteIP: nil))
        let batch = ResultBatch(
            agent: "a", batchID: "b", sentAt: result.startedAt, results: [result, result],
            heartbeat: Heartbeat(version: "1", configHash: "h", spoolDepth: 0, dropped: 0))
        return Array(try! ResultJSON.encoder().encode(batch))
    }()

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            guard !bytes.isEmpty else { break }
            let at = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 5 {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            case 1: bytes.remove(at: at)
            case 2: bytes.insert(Array(#"{}[]":,0-e.9tn\"#.utf8)[Int(rng.next() % 15)], at: at)
            case 3: bytes.removeSubrange(at..<min(bytes.count, at + Int(rng.next() % 40)))
            default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + Int(rng.next() % 60))], at: at)
            }
        }
        return bytes
    }

    @Test func mutatedBatchesAreDecodedOrRefusedWith4xx() {
        var rng = SplitMix(seed: 42)
        var refused = 0
        for _ in 0..<Self.iterations {
            do {
                _ = try BatchDecoding.decode(Data(Self.mutate(Self.seed, &rng)), maxResults: 100)
            } catch {
                #expect((400..<500).contains(error.status.code))
                refused += 1
            }
        }
        #expect(refused > Self.iterations / 2)
    }

    @Test func mutatedSignatureHeadersAreParsedOrRefusedWith401() {
        var rng = SplitMix(seed: 9)
        let header = Array("keyid=sp-clinic-01,t=1790000000,sig=\(Data(repeating: 7, count: 64).base64EncodedString())".utf8)
        for _ in 0..<Self.iterations {
            let text = String(decoding: Self.mutate(header, &rng), as: UTF8.self)
            do {
                _ = try SignatureHeader(parsing: text)
            } catch {
                #expect(error.status == .unauthorized)
            }
        }
    }
}

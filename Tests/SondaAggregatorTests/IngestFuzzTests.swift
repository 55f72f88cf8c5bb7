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
            http: HTTPInfo(
                status: 200, version: "1.1", redirects: 0, redirectMilliseconds: 0, bodyBytes: 3, remoteIP: nil))
        let batch = ResultBatch(
            agent: "a", batchID: "b", sentAt: result.startedAt, results: [result, result],
            heartbeat: Heartbeat(version: "1", configHash: "h", spoolDepth: 0, dropped: 0))
        return Array(try! ResultJSON.encoder().encode(batch))
    }()

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
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

    /// The hand-written reader against JSONDecoder on the same mutated bodies: both accept with
    /// equal values (and the kept JSON text decodes to the same result), or both refuse.
    @Test func mutatedBatchesAreReadExactlyAsJSONDecoderDecodesThem() throws {
        var rng = SplitMix64(seed: 42)
        let decoder = ResultJSON.decoder()
        var refused = 0
        var stricter = 0
        var disagreements: [String] = []
        for _ in 0..<Self.iterations {
            let body = Data(Self.mutate(Self.seed, &rng))
            let expected = (try? decoder.decode(ResultBatch.self, from: body)).flatMap {
                $0.results.count <= 100 ? $0 : nil
            }
            let read: BatchReader.Batch
            do {
                read = try BatchReader.read(body, maxResults: 100)
            } catch {
                refused += 1
                // Stricter than JSONDecoder on purpose: a key given twice, or text that is not JSON
                // at all (RFC 8259, judged by SondaCore's own strict parser) inside a value
                // JSONDecoder skips unchecked: invalid UTF-8, a bad escape or number, a control
                // character, a trailing comma.
                if expected != nil,
                    error.message.contains("appears twice") || (try? JSONValue.parse(Array(body))) == nil
                        || String(validating: Array(body), as: UTF8.self) == nil
                {
                    stricter += 1
                    continue
                }
                if expected != nil {
                    disagreements.append("refused (\(error.message)): \(String(decoding: body, as: UTF8.self))")
                }
                continue
            }
            if read.batch != expected { disagreements.append("accepted: \(String(decoding: body, as: UTF8.self))") }
            for (raw, result) in zip(read.rawResults, read.batch.results)
            where (try? decoder.decode(ProbeResult.self, from: Data(raw.utf8))) != result {
                disagreements.append("kept text \(raw) decodes otherwise than \(result)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(3))")
        #expect(refused > Self.iterations / 2)
        #expect(stricter < Self.iterations / 4)
    }

    @Test func keysGivenTwiceAreRefusedWhereverTheyAre() throws {
        for body in [
            #"{"agent":"a","agent":"b","batch_id":"b","sent_at":"2026-11-23T10:00:00Z","results":[],"heartbeat":{"version":"1","config_hash":"x","spool_depth":0,"dropped":0}}"#,
            #"{"batch_id":"b","agent":"a","sent_at":"2026-11-23T10:00:00Z","results":[],"heartbeat":{"version":"1","config_hash":"x","spool_depth":0,"dropped":0},"agent":"b"}"#,
            #"{"agent":"a","batch_id":"b","sent_at":"2026-11-23T10:00:00Z","results":[],"heartbeat":{"version":"1","config_hash":"x","spool_depth":0,"dropped":0,"dropp\u0065d":5}}"#,
        ] {
            #expect(
                performing: { try BatchReader.read(Data(body.utf8), maxResults: 10) },
                throws: { error in
                    (error as? BatchReader.Failure)?.message.contains("appears twice") == true
                })
        }
        let sorted =
            #"{"agent":"a","batch_id":"b","heartbeat":{"config_hash":"x","dropped":0,"spool_depth":0,"version":"1"},"results":[],"sent_at":"2026-11-23T10:00:00Z"}"#
        let unsorted =
            #"{"sent_at":"2026-11-23T10:00:00Z","results":[],"heartbeat":{"version":"1","spool_depth":0,"dropped":0,"config_hash":"x"},"batch_id":"b","agent":"a"}"#
        let a = try BatchReader.read(Data(sorted.utf8), maxResults: 10).batch
        let b = try BatchReader.read(Data(unsorted.utf8), maxResults: 10).batch
        #expect(a == b)
    }

    /// What the header grammar says a header holds: the last value of each `key=value` part.
    static func expectedFields(_ text: String) -> (agent: String, t: Int64, sig: Data)? {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            fields[part[..<eq].trimmingCharacters(in: .whitespaces)] = String(part[part.index(after: eq)...])
        }
        guard let agent = fields["keyid"], !agent.isEmpty, let t = fields["t"].flatMap({ Int64($0) }),
            let sig = fields["sig"].flatMap({ Data(base64Encoded: $0) }), sig.count == 64
        else { return nil }
        return (agent, t, sig)
    }

    /// Mutated headers are parsed to exactly what they say, or refused with a 401 naming what is
    /// wrong; both happen.
    @Test func mutatedSignatureHeadersAreParsedOrRefusedWith401() {
        var rng = SplitMix64(seed: 9)
        let header = Array(
            "keyid=sp-clinic-01,t=1790000000,sig=\(Data(repeating: 7, count: 64).base64EncodedString())".utf8)
        var parsed = 0
        var refused = 0
        for _ in 0..<Self.iterations {
            let text = String(decoding: Self.mutate(header, &rng), as: UTF8.self)
            let expected = Self.expectedFields(text)
            do {
                let read = try SignatureHeader(parsing: text)
                parsed += 1
                #expect(
                    expected.map { ($0.agent, $0.t, $0.sig) == (read.agent, read.timestamp, read.signature) } == true,
                    "accepted '\(text)' as \(read)")
            } catch {
                refused += 1
                #expect(expected == nil, "refused '\(text)': \(error.message)")
                #expect(error.status == .unauthorized && error.code == .badSignature)
                #expect(error.message.hasPrefix("signature header has no "), "\(error.message)")
            }
        }
        #expect(parsed > Self.iterations / 50 && refused > Self.iterations / 2, "\(parsed) parsed, \(refused) refused")
    }

    /// The reader's fast path for short decimals gives strtod's value, bit for bit, for numbers
    /// of every length it takes and those just past it (which go to strtod).
    @Test func shortDecimalsAreReadAsStrtodReadsThem() {
        var rng = SplitMix64(seed: 7)
        var fast = 0
        for _ in 0..<Self.iterations * 5 {
            let digits = 1 + Int(rng.next() % 17)
            var text = (rng.next() % 2 == 0 ? "-" : "") + String(1 + rng.next() % 9)
            for _ in 1..<digits { text += String(rng.next() % 10) }
            let point = Int(rng.next() % UInt64(digits + 1))
            if point < digits {
                text.insert(".", at: text.index(text.endIndex, offsetBy: -(digits - point)))
                if point == 0 { text.insert("0", at: text.index(text.endIndex, offsetBy: -(digits + 1))) }
            }
            let value = Array(text.utf8).withUnsafeBufferPointer { BatchReader.shortDecimal($0) }
            if let value {
                fast += 1
                #expect(value.bitPattern == strtod(text, nil).bitPattern, "\(text)")
            }
        }
        #expect(fast > Self.iterations * 3, "most of these numbers take the fast path")
        let edge = [
            "0", "-0", "0.5", "999999999999999", "0.000000000000001", "1e5", "1234567890123456", "0.0000000000000001",
        ]
        let read = edge.map { text in Array(text.utf8).withUnsafeBufferPointer { BatchReader.shortDecimal($0) } }
        #expect(read[0]?.bitPattern == 0.0.bitPattern && read[1]?.bitPattern == (-0.0).bitPattern)
        #expect(read[2] == 0.5 && read[3] == 999_999_999_999_999 && read[4] == 1e-15)
        #expect(read[5] == nil && read[6] == nil && read[7] == nil, "an exponent, a 16th digit go to strtod")
    }
}

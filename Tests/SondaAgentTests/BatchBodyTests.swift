import Foundation
import SondaCore
import Testing

@testable import SondaAgent

@Suite struct BatchBodyTests {
    @Test func spooledLinesAreSplicedIntoABatchTheAggregatorDecodes() throws {
        let results = (0..<3).map { i in
            ProbeResult(
                check: "c\(i)", startedAt: Date(timeIntervalSince1970: 1_795_428_000.25 + Double(i)),
                error: i == 1 ? ProbeError(.timeout, #"took "too" long, "results":[] \ "#) : nil,
                phases: PhaseTimings(dns: 1, connect: 2, tls: 3, send: 0.5, wait: 10, receive: 0.25, total: 16.75))
        }
        var writer = ResultJSONWriter()
        let objects = Array(results.map { Array(writer.line($0).dropLast()) }.joined(separator: [UInt8(ascii: ",")]))
        let frame = ResultBatch(
            agent: #"sp-"clinic"-01"#, batchID: "00000000000000000001-abc", sentAt: Date(timeIntervalSince1970: 1_795_428_100),
            results: [], heartbeat: Heartbeat(version: "0.1.0", configHash: "ab", spoolDepth: 3, dropped: 2))
        let body = try Reporter.body(frame, objects: objects)
        let decoded = try ResultJSON.decoder().decode(ResultBatch.self, from: Data(body))
        #expect(decoded.results.map(\.id) == results.map(\.id))
        #expect(decoded.results[1].error?.message == results[1].error?.message)
        #expect(decoded.agent == frame.agent)
        #expect(decoded.heartbeat == frame.heartbeat)
        #expect(decoded.results[0].startedAt == results[0].startedAt)
    }
}

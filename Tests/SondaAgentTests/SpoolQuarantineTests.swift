import Foundation
import SondaAgent
import SondaCore
import Testing

/// Results the aggregator refused for good leave the spool for `quarantine/`, where they are kept
/// for inspection, counted, and capped in size.
@Suite struct SpoolQuarantineTests {
    /// A spool holding `count` results sealed as one batch.
    static func spoolWithBatch(
        _ directory: SpoolTestDirectory, count: Int, first: Int = 1,
        configuration: SpoolConfiguration = SpoolConfiguration()
    ) throws -> (ResultSpool, SpoolBatch) {
        let spool = try ResultSpool(directory: directory.path, configuration: configuration, clock: SpoolTestClock())
        try spool.append(SpoolSamples.results(first...(first + count - 1)))
        return (spool, try #require(try spool.nextBatch(force: true)))
    }

    static func ids(inFile path: String) -> [String] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String
        }
    }

    @Test func aWhollyRefusedBatchMovesItsBatchFileAndIsCountedAcrossRestarts() throws {
        let directory = SpoolTestDirectory()
        let (spool, batch) = try Self.spoolWithBatch(directory, count: 3)
        let batchFile = try #require(directory.sealedBatchFiles().first)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: batchFile))
        let set = try #require(
            try spool.quarantine(batch, refused: [0..<3], explanation: #"{"refusals":[{"status":400}]}"#))
        #expect(set.results == 3 && set.trimmed.isEmpty)
        #expect(set.path == "\(directory.path)/quarantine/\(batch.id).jsonl")
        #expect(try Data(contentsOf: URL(fileURLWithPath: set.path)) == bytes, "the batch file itself, moved")
        let explanation = try String(
            contentsOfFile: "\(directory.path)/quarantine/\(batch.id).error.json", encoding: .utf8)
        #expect(explanation == #"{"refusals":[{"status":400}]}"# + "\n")
        #expect(directory.sealedBatchFiles().isEmpty)
        #expect(spool.depth == 0 && spool.bytes == 0)
        #expect(try spool.nextBatch(force: true) == nil, "the reporter goes on to the next batch")
        #expect(spool.quarantinedTotal == 3 && spool.quarantinedBatches == 1)
        #expect(spool.unreportedCounts().quarantined == 3)

        spool.reported(spool.unreportedCounts())
        let reopened = try ResultSpool(directory: directory.path, clock: SpoolTestClock())
        #expect(reopened.quarantinedTotal == 3 && reopened.quarantinedBatches == 1)
        #expect(reopened.unreportedCounts().quarantined == 0)
        #expect(reopened.depth == 0, "the quarantine is not read back as spooled results")
    }

    @Test func theRefusedPartsOfABatchAreWrittenAsABatchFileFileOfTheirOwn() throws {
        let directory = SpoolTestDirectory()
        let (spool, batch) = try Self.spoolWithBatch(directory, count: 5)
        let set = try #require(try spool.quarantine(batch, refused: [1..<2, 3..<5], explanation: "{}"))
        #expect(set.results == 2 + 1)
        #expect(Self.ids(inFile: set.path) == ["r-000002", "r-000004", "r-000005"])
        let lines = try String(contentsOfFile: set.path, encoding: .utf8).split(separator: "\n")
        let decoded = try lines.map { try ResultJSON.decoder().decode(ProbeResult.self, from: Data($0.utf8)) }
        #expect(decoded == [1, 3, 4].map { batch.results[$0] }, "lines the spool itself could read back")
        #expect(directory.sealedBatchFiles().isEmpty, "the rest was delivered: the batch file is gone")
        #expect(spool.quarantinedTotal == 3 && spool.quarantinedBatches == 1)
    }

    @Test func aBatchTheCapDroppedMeanwhileIsNotQuarantinedToo() throws {
        let directory = SpoolTestDirectory()
        let (spool, batch) = try Self.spoolWithBatch(directory, count: 2)
        try spool.acknowledge(batch)
        #expect(try spool.quarantine(batch, refused: [0..<2], explanation: "{}") == nil)
        #expect(try spool.quarantine(batch, refused: [0..<1], explanation: "{}") == nil)
        #expect(spool.quarantinedTotal == 0)
    }

    /// Past the cap the oldest batches' files go; the newest batch's stay even when they alone are
    /// over it.
    @Test func theCapRemovesTheOldestBatchesButNeverTheNewest() throws {
        let directory = SpoolTestDirectory()
        let line = SpoolSamples.lineLength
        let configuration = SpoolConfiguration(maxResultsPerBatch: 2, maxQuarantineBytes: 5 * line)
        let spool = try ResultSpool(directory: directory.path, configuration: configuration, clock: SpoolTestClock())
        try spool.append(SpoolSamples.results(1...6))
        var stems: [String] = []
        while let batch = try spool.nextBatch(force: true) {
            let set = try #require(try spool.quarantine(batch, refused: [0..<batch.count], explanation: "{}"))
            stems.append(batch.id)
            #expect(set.trimmed == (stems.count == 3 ? [stems[0]] : []), "\(stems.count)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: spool.quarantinePath).sorted()
        #expect(left == stems.dropFirst().flatMap { [$0 + ".error.json", $0 + ".jsonl"] })
        #expect(spool.quarantinedTotal == 6, "counted when set aside, whatever the cap removes later")

        // The same spool reopened with a cap of one byte, holding one more batch.
        try spool.append(SpoolSamples.results(7...8))
        _ = try spool.nextBatch(force: true)
        let tiny = SpoolConfiguration(maxQuarantineBytes: 1)
        let strict = try ResultSpool(directory: directory.path, configuration: tiny, clock: SpoolTestClock())
        let last = try #require(try strict.nextBatch(force: true))
        let set = try #require(try strict.quarantine(last, refused: [0..<2], explanation: "{}"))
        #expect(set.trimmed.count == 2, "everything older goes")
        #expect(Self.ids(inFile: set.path) == ["r-000007", "r-000008"], "the newest stays, alone over the cap")
    }

    @Test func theDefaultCapIsATenthOfTheSpoolsAtMost16MiB() {
        #expect(SpoolConfiguration().maxQuarantineBytes == 16 << 20)
        #expect(SpoolConfiguration(maxBytes: 50 << 20).maxQuarantineBytes == 5 << 20)
    }
}

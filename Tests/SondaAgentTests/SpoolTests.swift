import Foundation
import SondaAgent
import SondaCore
import Synchronization
import Testing

@Suite struct SpoolTests {
    @Test func appendedResultsComeBackAsOneBatchUntilAcknowledged() throws {
        let directory = SpoolTestDirectory()
        let clock = SpoolTestClock()
        let spool = try ResultSpool(directory: directory.path, clock: clock)
        let results = SpoolSamples.results(1...3)
        try spool.append(results)
        #expect(spool.depth == 3)
        #expect(spool.bytes == 3 * SpoolSamples.lineLength)
        #expect(try spool.nextBatch() == nil, "a young batch file with room left is not a batch yet")

        clock.advance(by: .seconds(10))
        let batch = try #require(try spool.nextBatch())
        #expect(batch.results == results)
        #expect(try spool.nextBatch() == batch, "unacknowledged, the same batch comes back")

        try spool.acknowledge(batch)
        #expect(try spool.nextBatch(force: true) == nil)
        #expect(spool.depth == 0)
        #expect(spool.bytes == 0)
        #expect(directory.sealedBatchFiles().isEmpty && directory.openBatchFile() == nil)
    }

    /// The batch of a batch file this process wrote comes from memory; it must be the bytes a restarted
    /// agent reads back from the file, also past the in-memory limit (1 MB), where it is read back too.
    @Test(arguments: [3, (1 << 20) / SpoolSamples.lineLength + 50])
    func aBatchFromMemoryIsTheBatchReadBackFromDisk(results count: Int) throws {
        let directory = SpoolTestDirectory()
        let clock = SpoolTestClock()
        let configuration = SpoolConfiguration(maxResultsPerBatch: 100_000)
        let spool = try ResultSpool(directory: directory.path, configuration: configuration, clock: clock)
        var results = SpoolSamples.results(1...count)
        results[0].error = ProbeError(.internal, "line one\nline \"two\"\t{not a brace}")
        for start in stride(from: 0, to: count, by: 7) { try spool.append(Array(results[start..<min(start + 7, count)])) }
        clock.advance(by: .seconds(10))
        let sent = try #require(try spool.nextBatch())

        let restarted = try ResultSpool(directory: directory.path, configuration: configuration, clock: clock)
        let readBack = try #require(try restarted.nextBatch())
        #expect(sent.count == count && readBack.count == count)
        #expect(sent.objects == readBack.objects)
        #expect(sent.results == results)
    }

    @Test func fullBatchFileIsABatchAtOnceAndForceFlushesTheRest() throws {
        let directory = SpoolTestDirectory()
        let spool = try ResultSpool(
            directory: directory.path, configuration: SpoolConfiguration(maxResultsPerBatch: 2),
            clock: SpoolTestClock())
        try spool.append(SpoolSamples.results(1...5))
        #expect(
            try spool.drain(force: false).map { $0.results.map(\.id) } == [
                SpoolSamples.ids(1...2), SpoolSamples.ids(3...4),
            ])
        #expect(spool.depth == 1)
        #expect(try spool.drain(force: true).flatMap { $0.results.map(\.id) } == SpoolSamples.ids(5...5))
    }

    /// The reporter sleeps until the spool has news: a first result to age, or a full batch file.
    @Test func appendsThatChangeWhenTheNextBatchIsDueAreAnnounced() throws {
        let directory = SpoolTestDirectory()
        let clock = SpoolTestClock()
        let spool = try ResultSpool(
            directory: directory.path, configuration: SpoolConfiguration(maxResultsPerBatch: 3), clock: clock)
        let news = Mutex(0)
        spool.onNews { news.withLock { $0 += 1 } }
        var announced: [Int] = []
        for number in 1...5 {
            try spool.append(SpoolSamples.results(number...number))
            announced.append(news.withLock { $0 })
        }
        #expect(announced == [1, 1, 2, 3, 3], "the first result, the third (full), the fourth (a new batch file)")
        #expect(spool.timeUntilSealDue == .seconds(10))
        clock.advance(by: .seconds(10))
        _ = try spool.nextBatch()
        try spool.append(SpoolSamples.results(6...6))
        #expect(news.withLock { $0 } == 4, "the reporter took the aged batch file: the next result starts one")
    }

    @Test func unacknowledgedBatchesSurviveReopening() throws {
        let directory = SpoolTestDirectory()
        let configuration = SpoolConfiguration(maxResultsPerBatch: 2)
        let firstBatch: SpoolBatch
        do {
            let spool = try ResultSpool(
                directory: directory.path, configuration: configuration, clock: SpoolTestClock())
            try spool.append(SpoolSamples.results(1...5))
            firstBatch = try #require(try spool.nextBatch())
        }
        let reopened = try ResultSpool(directory: directory.path, configuration: configuration, clock: SpoolTestClock())
        #expect(reopened.depth == 5)
        #expect(reopened.unreadableLines == 0)
        let batches = try reopened.drain(force: false)
        #expect(batches.first == firstBatch, "same id and results after the restart")
        #expect(batches.flatMap { $0.results.map(\.id) } == SpoolSamples.ids(1...5))
    }

    /// What a crash mid-write can leave after the last complete line.
    static let tornTails: [[UInt8]] = [
        Array(#"{"agent":"fra-1","assertions":[],"budget":null,"check":"api-he"#.utf8),
        [0x00, 0x00, 0x00, 0x00],
        Array("{".utf8),
    ]

    @Test(arguments: tornTails) func tornFinalLineIsSkippedAndCounted(tail: [UInt8]) throws {
        let directory = SpoolTestDirectory()
        do {
            let spool = try ResultSpool(directory: directory.path, clock: SpoolTestClock())
            try spool.append(SpoolSamples.results(1...2))
            try spool.append(SpoolSamples.results(3...3))
            try directory.appendRaw(tail, to: try #require(directory.openBatchFile()))
        }
        let reopened = try ResultSpool(directory: directory.path, clock: SpoolTestClock())
        #expect(reopened.unreadableLines == 1)
        #expect(reopened.depth == 3)
        try reopened.append(SpoolSamples.results(4...4))
        let delivered = try reopened.drain().flatMap { $0.results.map(\.id) }
        #expect(delivered == SpoolSamples.ids(1...4))
        #expect(reopened.unreadableLines == 1)
    }

    /// Read back from disk, as after a restart (the process that wrote a batch file sends it from
    /// memory).
    @Test func corruptLineInsideABatchFileIsSkippedAndCountedOnce() throws {
        let directory = SpoolTestDirectory()
        let configuration = SpoolConfiguration(maxResultsPerBatch: 3)
        do {
            let writer = try ResultSpool(directory: directory.path, configuration: configuration, clock: SpoolTestClock())
            try writer.append(SpoolSamples.results(1...1))
            try directory.appendRaw(Array("not a result\n".utf8), to: try #require(directory.openBatchFile()))
            try writer.append(SpoolSamples.results(2...3))
        }
        let spool = try ResultSpool(directory: directory.path, configuration: configuration, clock: SpoolTestClock())

        let batch = try #require(try spool.nextBatch())
        #expect(batch.results.map(\.id) == SpoolSamples.ids(1...3))
        #expect(try spool.nextBatch() == batch)
        #expect(spool.unreadableLines == 1)
        #expect(spool.depth == 3, "once read, depth counts only the readable results")
    }

    @Test func capDropsTheOldestBatchFilesAndCountsExactly() throws {
        let directory = SpoolTestDirectory()
        let line = SpoolSamples.lineLength
        // Two results a batch file; the cap holds four batch files and a half.
        let configuration = SpoolConfiguration(maxResultsPerBatch: 2, maxBytes: 9 * line)
        do {
            let spool = try ResultSpool(
                directory: directory.path, configuration: configuration, clock: SpoolTestClock())
            try spool.append(SpoolSamples.results(1...10))
            #expect(spool.droppedTotal == 2)
            #expect(spool.depth == 8)
            #expect(spool.bytes <= 9 * line)
            let counts = spool.unreportedCounts()
            #expect(counts.dropped == 2)
            #expect(spool.unreportedCounts().dropped == 2, "a heartbeat not yet acknowledged marks nothing")
            spool.reported(counts)
            #expect(spool.unreportedCounts().dropped == 0)

            let sentBefore = spool.unreportedCounts()
            try spool.append(SpoolSamples.results(11...14))
            #expect(spool.droppedTotal == 6)
            #expect(spool.depth == 8)
            spool.reported(sentBefore)
            #expect(spool.unreportedCounts().dropped == 4, "drops after the heartbeat was built wait for the next")
        }
        let reopened = try ResultSpool(directory: directory.path, configuration: configuration, clock: SpoolTestClock())
        #expect(reopened.droppedTotal == 6, "the total is kept across restarts")
        #expect(reopened.unreportedCounts().dropped == 4, "and so is what was already reported")
        #expect(try reopened.drain().flatMap { $0.results.map(\.id) } == SpoolSamples.ids(7...14))
    }

    @Test func batchesComeOutInAppendOrderAcrossManyBatchFiles() throws {
        let directory = SpoolTestDirectory()
        let clock = SpoolTestClock()
        let configuration = SpoolConfiguration(maxResultsPerBatch: 3, maxBatchAge: .seconds(5))
        var spool = try ResultSpool(directory: directory.path, configuration: configuration, clock: clock)
        var next = 1
        for (round, size) in [1, 4, 2, 7, 3, 1, 5, 6, 2, 9].enumerated() {
            try spool.append(SpoolSamples.results(next...(next + size - 1)))
            next += size
            clock.advance(by: .seconds(round % 3 == 0 ? 6 : 1))
            if round == 5 {
                spool = try ResultSpool(directory: directory.path, configuration: configuration, clock: clock)
            }
        }
        let batches = try spool.drain()
        #expect(batches.flatMap { $0.results.map(\.id) } == SpoolSamples.ids(1...(next - 1)))
        #expect(batches.count >= 14)
        #expect(batches.map(\.id) == batches.map(\.id).sorted())
        #expect(Set(batches.map(\.id)).count == batches.count)
    }
}

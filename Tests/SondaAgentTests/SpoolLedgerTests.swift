import Testing

@testable import SondaAgent

@Suite struct SpoolLedgerTests {
    static func batchFile(_ sequence: UInt64, results: Int, bytes: Int) -> SpoolLedger.BatchFile {
        SpoolLedger.BatchFile(name: BatchFileName(sequence: sequence, token: 7), results: results, bytes: bytes)
    }

    @Test func openBatchFileTakesLinesUpToItsCountAndByteLimits() {
        var ledger = SpoolLedger(configuration: SpoolConfiguration(maxResultsPerBatch: 4, maxBytes: 400))
        ledger.startBatchFile(BatchFileName(sequence: 1, token: 7), at: .zero)
        #expect(ledger.linesFitting([200]) == 1, "a line larger than a batch file still goes into an empty one")
        #expect(ledger.linesFitting([10, 10, 10, 10, 10]) == 4)
        #expect(ledger.linesFitting([60, 60, 60]) == 1, "a quarter of maxBytes per batch file")
        ledger.recordWrite(results: 3, bytes: 30)
        #expect(ledger.linesFitting([10, 10]) == 1)
        ledger.recordWrite(results: 1, bytes: 10)
        #expect(ledger.openIsFull)
        #expect(ledger.linesFitting([10]) == 0)
    }

    @Test func openBatchFileIsSealedWhenOldOrForcedButNeverEmpty() {
        var ledger = SpoolLedger(configuration: SpoolConfiguration(maxBatchAge: .seconds(10)))
        ledger.startBatchFile(BatchFileName(sequence: 1, token: 7), at: .seconds(100))
        #expect(!ledger.shouldSeal(at: .seconds(200), force: true))
        ledger.recordWrite(results: 1, bytes: 10)
        #expect(!ledger.shouldSeal(at: .seconds(109)))
        #expect(ledger.shouldSeal(at: .seconds(109), force: true))
        #expect(ledger.shouldSeal(at: .seconds(110)))
        ledger.seal()
        #expect(ledger.open == nil && ledger.sealed.map(\.name.sequence) == [1] && ledger.depth == 1)
    }

    @Test func capDropsJustEnoughOldestBatchFiles() {
        var ledger = SpoolLedger(configuration: SpoolConfiguration(maxBytes: 100))
        for sequence in 1...4 { ledger.restore(Self.batchFile(UInt64(sequence), results: 3, bytes: 30)) }
        #expect(ledger.bytes == 120)
        #expect(ledger.overCap().map(\.name.sequence) == [1])
        ledger.restore(Self.batchFile(5, results: 3, bytes: 30))
        #expect(ledger.overCap().map(\.name.sequence) == [1, 2])
        #expect(ledger.nextSequence == 6)
    }

    @Test func batchFileNamesOrderBySequenceAndParseBack() throws {
        let name = BatchFileName(sequence: 42, token: 0xc0ffee)
        #expect(name.stem == "00000000000000000042-0000000000c0ffee")
        let parsed = try #require(BatchFileName.parse(file: name.sealedFile))
        #expect(parsed.name == name && parsed.sealed)
        #expect(BatchFileName.parse(file: name.openFile)?.sealed == false)
        #expect(BatchFileName.parse(file: "state.json") == nil)
        #expect(BatchFileName(sequence: 9, token: 1) < BatchFileName(sequence: 10, token: 0))
    }
}

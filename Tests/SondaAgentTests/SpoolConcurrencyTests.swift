import SondaAgent
import SondaCore
import Testing

@Suite struct SpoolConcurrencyTests {
    @Test func drainingWhileAppendingLosesAndDuplicatesNothing() async throws {
        let directory = SpoolTestDirectory()
        let spool = try ResultSpool(
            directory: directory.path, configuration: SpoolConfiguration(maxResultsPerBatch: 25),
            clock: SpoolTestClock())
        let expected = SpoolSamples.ids(1...600)

        let appending = Task.detached {
            for start in stride(from: 1, through: 600, by: 10) {
                try spool.append(SpoolSamples.results(start...(start + 9)))
            }
        }
        let draining = Task.detached {
            var delivered: [String] = []
            let giveUp = ContinuousClock.now + .seconds(60)
            while delivered.count < expected.count, ContinuousClock.now < giveUp {
                guard let batch = try spool.nextBatch(force: true) else { continue }
                delivered += batch.results.map(\.id)
                try spool.acknowledge(batch)
            }
            return delivered
        }
        try await appending.value
        let delivered = try await draining.value

        #expect(delivered.count == expected.count)
        #expect(Set(delivered) == Set(expected))
        #expect(delivered == expected, "one appender, so its order is kept")
        #expect(spool.depth == 0)
        #expect(try spool.nextBatch(force: true) == nil)
    }
}

import SondaAgent
import SondaCore
import Synchronization
import TestSupport
import Testing

@Suite struct SpoolConcurrencyTests {
    @Test func drainingWhileAppendingLosesAndDuplicatesNothing() async throws {
        let directory = SpoolTestDirectory()
        let spool = try ResultSpool(
            directory: directory.path, configuration: SpoolConfiguration(maxResultsPerBatch: 25),
            clock: SpoolTestClock())
        let expected = SpoolSamples.ids(1...600)

        // Two threads of their own, not pool tasks: the drainer polls without waiting, and on
        // the pool it would hold one of the test process's threads for as long as it polls.
        let appended = Flag()
        async let appending: Void = onThread {
            for start in stride(from: 1, through: 600, by: 10) {
                try! spool.append(SpoolSamples.results(start...(start + 9)))
            }
            appended.value.store(true, ordering: .releasing)
        }
        async let draining = onThread {
            var delivered: [String] = []
            while true {
                // Read before asking: once appending is over, an empty answer means all is out.
                let done = appended.value.load(ordering: .acquiring)
                guard let batch = try! spool.nextBatch(force: true) else {
                    if done { break } else { continue }
                }
                delivered += batch.results.map(\.id)
                try! spool.acknowledge(batch)
            }
            return delivered
        }
        await appending
        let delivered = await draining

        #expect(delivered.count == expected.count)
        #expect(Set(delivered) == Set(expected))
        #expect(delivered == expected, "one appender, so its order is kept")
        #expect(spool.depth == 0)
        #expect(try spool.nextBatch(force: true) == nil)
    }
}

private final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}

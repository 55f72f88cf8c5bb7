import Foundation
import SondaProbe
import TestSupport
import Testing

/// Sonda's own requests (the CLI's reads, the agent's batches) read whole answers up to a limit,
/// and say so past it instead of handing back the first part as if it were all.
@Suite struct HTTPPosterTests {
    static let pool = ProbeWorkerPool(workers: 1)

    @Test func aGetReadsTheWholeAnswerUpToTheLimit() async throws {
        let lab = try TLSLab.shared()
        let url = lab.url("http", "/big.bin")  // 500 000 bytes
        let whole = await Self.pool.withWorker { $0.get(url: url, headers: [], timeout: .seconds(60), caFile: nil) }
        #expect(whole.status == 200 && whole.transportError == nil && !whole.tooLarge)
        // Random bytes decode with replacement characters, which are never shorter than what they replace.
        #expect(whole.body.utf8.count >= 500_000, "the whole body, not the first 64 KiB")

        let cut = await Self.pool.withWorker {
            $0.get(url: url, headers: [], timeout: .seconds(60), caFile: nil, maxBodyBytes: 100_000)
        }
        #expect(cut.tooLarge)
        #expect(cut.body.isEmpty, "no part of the answer is handed back as if it were all of it")
        #expect(cut.transportError == "the answer is longer than 100000 bytes")

        let exact = await Self.pool.withWorker {
            $0.get(url: url, headers: [], timeout: .seconds(60), caFile: nil, maxBodyBytes: 500_000)
        }
        #expect(!exact.tooLarge && exact.status == 200, "an answer of exactly the limit is whole")
    }
}

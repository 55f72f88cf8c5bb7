import Foundation
import SondaProbe
import TestSupport
import Testing

/// The agent's batches read the aggregator's whole answer up to a limit, and say so past it
/// instead of handing back the first part as if it were all.
@Suite struct HTTPPosterTests {
    static let pool = ProbeWorkerPool(workers: 1)

    @Test func aPostReadsTheWholeAnswerUpToTheLimit() async throws {
        let url = try TLSLab.shared().url("http", "/big-answer")  // 500 000 bytes
        func post(limit: Int = HTTPPostResponse.defaultMaxBodyBytes) async -> HTTPPostResponse {
            await Self.pool.withWorker {
                $0.post(url: url, body: Array("{}".utf8), headers: [], timeout: .seconds(60), caFile: nil, maxBodyBytes: limit)
            }
        }
        let whole = await post()
        #expect(whole.status == 200 && whole.transportError == nil && !whole.tooLarge, "\(whole.transportError ?? "")")
        #expect(whole.body.utf8.count == 500_000, "the whole body, not the first 64 KiB")

        let cut = await post(limit: 100_000)
        #expect(cut.tooLarge)
        #expect(cut.body.isEmpty, "no part of the answer is handed back as if it were all of it")
        #expect(cut.transportError == "the answer is longer than 100000 bytes")

        let exact = await post(limit: 500_000)
        #expect(!exact.tooLarge && exact.status == 200, "an answer of exactly the limit is whole")
    }
}

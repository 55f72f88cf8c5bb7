import SondaProbe
import Testing

@testable import SondaAgent

/// Which aggregator a batch goes to first, and what each answer means for the batch.
@Suite struct AggregatorFailoverTests {
    @Test func theURLThatAnsweredLastIsTriedFirst() {
        var endpoints = AggregatorEndpoints(urls: ["https://a.example", "https://b.example/", "https://c.example"])
        #expect(
            endpoints.resultsURLs == [
                "https://a.example/v1/results", "https://b.example/v1/results", "https://c.example/v1/results",
            ])
        #expect(endpoints.order == [0, 1, 2])
        let unchanged = endpoints.answered(at: 0)
        #expect(unchanged == nil, "no change: nothing to log")
        let tookOver = endpoints.answered(at: 2)
        #expect(tookOver == 0, "c took over from a")
        #expect(endpoints.order == [2, 0, 1], "the next batch starts at c, then wraps around")
        let again = endpoints.answered(at: 2)
        #expect(again == nil)
        let back = endpoints.answered(at: 0)
        #expect(back == 2)
        #expect(endpoints.order == [0, 1, 2])
    }

    static let answers: [(Int, String?, String)] = [
        (200, nil, "accepted"),
        (400, nil, "refused HTTP 400 malformed: $.results[0].id must be a string"),
        (413, nil, "refused HTTP 413 too_large: body is over the limit of 4096 bytes"),
        (401, nil, "unavailable HTTP 401 bad_signature: nope"),
        (403, nil, "unavailable HTTP 403 forbidden: nope"),
        (409, nil, "unavailable HTTP 409 replay: timestamp outside the window"),
        (503, nil, "unavailable HTTP 503 unavailable: down for maintenance"),
        (502, nil, "unavailable HTTP 502 <html>bad gateway</html>"),
        (404, nil, "unavailable HTTP 404 not_found: /v1/results"),
        (0, "Couldn't connect to server", "unavailable Couldn't connect to server"),
    ]

    /// 400 and 413 are about the batch and final; a bad key (401, 403) or clock (409) is the
    /// operator's to fix, so those, like no answer or a 5xx, are retried (on another aggregator
    /// first).
    @Test(arguments: answers)
    func answersAreSortedByWhatTheyMeanForTheBatch(_ status: Int, _ transportError: String?, _ expected: String) {
        let bodies = [
            400: #"{"error":{"code":"malformed","message":"$.results[0].id must be a string"}}"#,
            413: #"{"error":{"code":"too_large","message":"body is over the limit of 4096 bytes"}}"#,
            401: #"{"error":{"code":"bad_signature","message":"nope"}}"#,
            403: #"{"error":{"code":"forbidden","message":"nope"}}"#,
            409: #"{"error":{"code":"replay","message":"timestamp outside the window"}}"#,
            503: #"{"error": {"code": "unavailable", "message": "down for maintenance"}}"#,
            502: "<html>bad gateway</html>\n",
            404: #"{"error":{"code":"not_found","message":"/v1/results"}}"#,
        ]
        let answer = AggregatorAnswer(
            HTTPPostResponse(status: status, body: bodies[status] ?? "", transportError: transportError))
        let text: String
        switch answer {
        case .accepted: text = "accepted"
        case .refused(let refusal): text = "refused \(refusal)"
        case .unavailable(let reason): text = "unavailable \(reason)"
        }
        #expect(text == expected)
    }

    static func refusal(_ status: Int) -> BatchRefusal { BatchRefusal(status: status, code: nil, message: "no") }

    /// A batch refused as too large goes again in halves, down to single results; a part refused
    /// otherwise, or a single result too large, is set aside.
    @Test func tooLargeBatchesAreSplitInHalvesDownToSingleResults() {
        var delivery = BatchDelivery(batchID: "b", count: 5)
        #expect(delivery.isWhole)
        var split = delivery.refused(0..<5, Self.refusal(413))
        #expect(split && !delivery.isWhole)
        #expect(delivery.pending == [0..<2, 2..<5])
        delivery.accepted(0..<2)
        split = delivery.refused(2..<5, Self.refusal(413))
        #expect(split)
        #expect(delivery.pending == [2..<3, 3..<5])
        split = delivery.refused(2..<3, Self.refusal(413))
        #expect(!split, "one result cannot be split")
        split = delivery.refused(3..<5, Self.refusal(413))
        #expect(split)
        split = delivery.refused(3..<4, Self.refusal(400))
        #expect(!split, "malformed is not split")
        delivery.accepted(4..<5)
        #expect(delivery.next == nil)
        #expect(delivery.refused.map(\.part) == [2..<3, 3..<4])
        #expect(delivery.refusedResults == 2 && delivery.deliveredResults == 3)
    }

    @Test func aMalformedBatchIsSetAsideWhole() {
        var delivery = BatchDelivery(batchID: "b", count: 8)
        var split = delivery.refused(0..<8, Self.refusal(400))
        #expect(!split)
        #expect(delivery.next == nil)
        #expect(delivery.refused.map(\.part) == [0..<8])
        var uncuttable = BatchDelivery(batchID: "c", count: 8)
        split = uncuttable.refused(0..<8, Self.refusal(413), divisible: false)
        #expect(!split)
        #expect(uncuttable.refused.map(\.part) == [0..<8])
    }
}

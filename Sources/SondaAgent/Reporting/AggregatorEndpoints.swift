import SondaCore

/// The aggregator URLs an agent reports to, in their configured order, and which one answered
/// last: the one each batch is offered to first. A plain value; `AggregatorLink` does the I/O.
struct AggregatorEndpoints: Sendable {
    /// As configured.
    let urls: [String]
    /// Where batches are posted: each URL's `/v1/results`.
    let resultsURLs: [String]
    /// The index of the URL that answered last (the first one until any has).
    private(set) var current = 0

    init(urls: [String]) {
        precondition(!urls.isEmpty, "an agent reports to at least one aggregator")
        self.urls = urls
        resultsURLs = urls.map { $0.hasSuffix("/") ? $0 + "v1/results" : $0 + "/v1/results" }
    }

    /// The URL at `index` for messages: without the password of its userinfo.
    func shown(_ index: Int) -> String { SecretRedactor.withoutPassword(urls[index]) }

    /// Indices in the order to try: the one that answered last, then the ones after it in the
    /// configured order, wrapping around.
    var order: [Int] { urls.indices.map { (current + $0) % urls.count } }

    /// The URL at `index` answered; returns the index it takes over from when that changed.
    mutating func answered(at index: Int) -> Int? {
        guard index != current else { return nil }
        defer { current = index }
        return current
    }
}

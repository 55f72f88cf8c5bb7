/// How far one spooled batch has got: the whole batch to send or, after 413s, the parts it was
/// split into (halves, recursively, down to single results), and the parts the aggregator refused
/// for good, which go to the quarantine once every part is settled. A plain value: the reporter
/// keeps it across a backoff, so parts already delivered are not sent again.
struct BatchDelivery: Sendable {
    struct Refused: Equatable, Sendable {
        /// Indices of the batch's results.
        var part: Range<Int>
        var refusal: BatchRefusal
    }

    let batchID: String
    let count: Int
    /// Parts still to send, first first.
    private(set) var pending: [Range<Int>]
    private(set) var refused: [Refused] = []
    private(set) var deliveredResults = 0

    init(batchID: String, count: Int) {
        self.batchID = batchID
        self.count = count
        pending = [0..<count]
    }

    /// The part to send next; nil once every part is delivered or refused.
    var next: Range<Int>? { pending.first }

    var isWhole: Bool { pending == [0..<count] && refused.isEmpty && deliveredResults == 0 }

    var refusedResults: Int { refused.reduce(0) { $0 + $1.part.count } }

    /// The aggregator committed `part` (the one `next` gave).
    mutating func accepted(_ part: Range<Int>) {
        precondition(pending.first == part, "parts are settled in order")
        pending.removeFirst()
        deliveredResults += part.count
    }

    /// The aggregator refused `part` for good. A part of several results that was too large is
    /// split in halves, sent next (returns true), unless it cannot be cut (`divisible`); anything
    /// else is set aside for the quarantine.
    @discardableResult
    mutating func refused(_ part: Range<Int>, _ refusal: BatchRefusal, divisible: Bool = true) -> Bool {
        precondition(pending.first == part, "parts are settled in order")
        pending.removeFirst()
        guard refusal.isTooLarge, part.count > 1, divisible else {
            refused.append(Refused(part: part, refusal: refusal))
            return false
        }
        let middle = part.lowerBound + part.count / 2
        pending.insert(contentsOf: [part.lowerBound..<middle, middle..<part.upperBound], at: 0)
        return true
    }
}

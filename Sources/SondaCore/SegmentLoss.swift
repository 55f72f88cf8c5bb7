/// Which segments an emulated link loses on their first crossing: none, each one with a fixed
/// probability from a seeded generator (so a schedule can be replayed exactly), or exactly the
/// ones a test names. Only the decision lives here; what a loss costs is `SegmentSchedule`'s.
public struct SegmentLoss: Sendable {
    private enum Kind: Sendable {
        case none
        case random(probability: Double)
        case segments(Set<Int>)
    }

    private let kind: Kind
    private var generator: SplitMix64
    private var sequence = 0

    private init(kind: Kind, seed: UInt64 = 0) {
        self.kind = kind
        self.generator = SplitMix64(seed: seed)
    }

    /// Nothing is lost; the schedule is exactly what it is without a loss model.
    public static let none = SegmentLoss(kind: .none)

    /// Each segment is lost with probability `percent` / 100, independently; the same seed loses
    /// the same segments.
    public static func random(percent: Double, seed: UInt64) -> SegmentLoss {
        percent > 0 ? SegmentLoss(kind: .random(probability: percent / 100), seed: seed) : .none
    }

    /// Loses exactly the segments at these positions in the stream (0 is the first segment).
    public static func segments(_ sequences: Set<Int>) -> SegmentLoss {
        sequences.isEmpty ? .none : SegmentLoss(kind: .segments(sequences))
    }

    public var losesNothing: Bool {
        if case .none = kind { return true }
        return false
    }

    /// Whether the next segment of the stream is lost; call once per segment, in order.
    mutating func losesNext() -> Bool {
        defer { sequence += 1 }
        switch kind {
        case .none:
            return false
        case .random(let probability):
            // 53 random bits make a uniform Double in [0, 1).
            return Double(generator.next() >> 11) * 0x1p-53 < probability
        case .segments(let sequences):
            return sequences.contains(sequence)
        }
    }
}

/// Vigna's SplitMix64: a few lines, fast, and its output for a seed never changes between Swift
/// releases, unlike the standard library's unseeded generator. Tests and benchmarks use it for
/// reproducible data too.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import SondaAggregator
import SondaCore
import Testing

@Suite struct LatencyHistogramTests {
    @Test func serializationRoundTripsAndMerges() throws {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        for ms in [0.0005, 0.8, 12.5, 12.6, 250, 3500, 90_000] { a.record(milliseconds: ms) }
        for ms in [12.5, 7000] { b.record(milliseconds: ms) }
        let decoded = try #require(LatencyHistogram(serialized: a.serialized))
        #expect(decoded == a)
        a.merge(b)
        #expect(a.count == 9)
        #expect(a.serialized.count < 30, "a handful of buckets stays tens of bytes")
    }

    @Test func theDenseAccumulatorAgreesWithMerging() {
        var merged = LatencyHistogram()
        var accumulator = HistogramAccumulator()
        var rng = SplitMix64(seed: 3)
        for _ in 0..<50 {
            var h = LatencyHistogram()
            for _ in 0..<40 { h.record(milliseconds: Double(rng.next() % 5_000_000) / 1000) }
            merged.merge(h)
            accumulator.add(serialized: h.serialized)
        }
        #expect(accumulator.count == merged.count)
        for q in [0.0, 0.5, 0.95, 0.99, 1.0] { #expect(accumulator.quantile(q) == merged.quantile(q)) }
    }

    /// The buckets are kept sorted as values come: any order of recording and of merging gives the
    /// same histogram, the same bytes, and the quantiles of a dense count of the same values.
    @Test func recordingInAnyOrderAndMergingInPiecesGiveTheSameHistogram() throws {
        var rng = SplitMix64(seed: 7)
        let values = (0..<300).map { _ in Double(rng.next() % 400_000) / 1000 } + [0, 0.0004, 12.5, 12.5, 90_000]
        var inOrder = LatencyHistogram()
        var reversed = LatencyHistogram()
        for ms in values { inOrder.record(milliseconds: ms) }
        for ms in values.reversed() { reversed.record(milliseconds: ms) }
        var pieces = LatencyHistogram()
        var accumulator = HistogramAccumulator()
        for start in stride(from: 0, to: values.count, by: 37).reversed() {
            var piece = LatencyHistogram()
            for ms in values[start..<min(start + 37, values.count)] { piece.record(milliseconds: ms) }
            pieces.merge(piece)
            pieces.merge(LatencyHistogram())
            accumulator.add(serialized: piece.serialized)
        }
        var singles = LatencyHistogram()  // one value at a time into many: inserted, not merged
        for ms in values {
            var one = LatencyHistogram()
            one.record(milliseconds: ms)
            singles.merge(one)
        }
        #expect(reversed == inOrder && pieces == inOrder && singles == inOrder)
        #expect(pieces.serialized == inOrder.serialized)
        #expect(try #require(LatencyHistogram(serialized: inOrder.serialized)) == inOrder)
        #expect(inOrder.count == UInt64(values.count))
        for q in [0.0, 0.01, 0.5, 0.95, 0.99, 1.0] { #expect(inOrder.quantile(q) == accumulator.quantile(q)) }
    }

    @Test func garbageIsRejectedNotTrusted() {
        #expect(LatencyHistogram(serialized: [0xFF, 0xFF, 0xFF, 0x7F, 0x01]) == nil)
    }
}

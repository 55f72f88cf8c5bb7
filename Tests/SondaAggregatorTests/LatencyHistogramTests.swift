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

    @Test func garbageIsRejectedNotTrusted() {
        #expect(LatencyHistogram(serialized: [0xFF, 0xFF, 0xFF, 0x7F, 0x01]) == nil)
    }
}

/// Sums many serialized `LatencyHistogram`s into one dense array of bucket counts, for queries
/// that merge hundreds of thousands of rollup rows: no dictionary per row, just varint decoding
/// and additions.
public struct HistogramAccumulator: Sendable {
    private var counts = [UInt64](repeating: 0, count: 4_001)
    public private(set) var count: UInt64 = 0

    public init() {}

    /// Adds a serialized histogram; bytes that are not one are ignored.
    public mutating func add(serialized bytes: some Collection<UInt8>) {
        var index = 0
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var readingDelta = true
        var pending = 0
        for byte in bytes {
            value |= UInt64(byte & 0x7F) << shift
            if byte >= 0x80 {
                shift += 7
                if shift > 63 { return }
                continue
            }
            if readingDelta {
                pending = index + Int(clamping: value)
                guard pending <= 4_000 else { return }
            } else {
                index = pending
                counts[index] &+= value
                count &+= value
            }
            readingDelta.toggle()
            value = 0
            shift = 0
        }
    }

    /// The nearest-rank quantile (q in 0...1) in milliseconds, or nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return LatencyHistogram.milliseconds(ofBucket: Int32(index)) }
        }
        return nil
    }
}

import Foundation

/// A compact log-bucket latency histogram: bucket i holds values in [γ^i, γ^(i+1)) microseconds with
/// γ = 1.02, so any quantile it reports is within 1 % of a recorded value. Chosen over
/// hdrhistogram-swift because rollups are merged and serialized on every ingest: a sparse map of
/// a few dozen buckets encodes to tens of bytes, where an HDR histogram's counts array is kilobytes.
public struct LatencyHistogram: Sendable, Hashable {
    static let gamma = 1.02
    static let logGamma = log(gamma)

    /// Bucket index → count.
    public private(set) var buckets: [Int32: UInt64] = [:]
    public private(set) var count: UInt64 = 0

    public init() {}

    public static func bucket(ofMilliseconds ms: Double) -> Int32 {
        let micros = ms * 1000
        guard micros >= 1, micros.isFinite else { return 0 }
        return Int32(min(log(micros) / logGamma, 4_000))
    }

    /// The value reported for a bucket: its geometric middle, in milliseconds.
    public static func milliseconds(ofBucket index: Int32) -> Double {
        index == 0 ? 0.001 : pow(gamma, Double(index) + 0.5) / 1000
    }

    public mutating func record(milliseconds ms: Double, count n: UInt64 = 1) {
        buckets[Self.bucket(ofMilliseconds: ms), default: 0] += n
        count += n
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for (index, n) in other.buckets { buckets[index, default: 0] += n }
        count += other.count
    }

    /// The nearest-rank quantile (q in 0...1), or nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for index in buckets.keys.sorted() {
            seen += buckets[index]!
            if seen >= rank { return Self.milliseconds(ofBucket: index) }
        }
        return nil
    }

    // MARK: serialized form: LEB128 varints of (index delta, count) pairs in index order

    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(buckets.count * 3)
        var previous: Int32 = 0
        for index in buckets.keys.sorted() {
            Self.appendVarint(UInt64(index - previous), to: &bytes)
            Self.appendVarint(buckets[index]!, to: &bytes)
            previous = index
        }
        return bytes
    }

    /// nil when the bytes are not a histogram this type wrote.
    public init?(serialized bytes: some Collection<UInt8>) {
        var iterator = bytes.makeIterator()
        var index: Int32 = 0
        while let delta = Self.readVarint(&iterator) {
            guard let n = Self.readVarint(&iterator), delta <= 4_000 else { return nil }
            index += Int32(delta)
            guard index <= 4_000 else { return nil }
            buckets[index, default: 0] += n
            count += n
        }
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private static func readVarint<I: IteratorProtocol<UInt8>>(_ iterator: inout I) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = iterator.next() {
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }
}

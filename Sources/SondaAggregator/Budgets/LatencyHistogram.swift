import Foundation

/// A compact log-bucket latency histogram: bucket i holds values in [γ^i, γ^(i+1)) microseconds with
/// γ = 1.02, so any quantile it reports is within 1 % of a recorded value. Chosen over
/// hdrhistogram-swift because rollups are merged and serialized on every ingest: a sparse map of
/// a few dozen buckets encodes to tens of bytes, where an HDR histogram's counts array is kilobytes.
public struct LatencyHistogram: Sendable, Hashable {
    static let gamma = 1.02
    static let logGamma = log(gamma)

    /// The buckets that hold values, in index order. A sorted array rather than a dictionary: a
    /// minute's histogram holds a handful of values, and ingest builds about a hundred of them per
    /// batch of 500 results (one per check, region, profile and minute, for each phase), so the
    /// dictionaries' allocations, hashing and sorting before serializing were most of their cost.
    private var buckets: [Bucket] = []
    public private(set) var count: UInt64 = 0

    struct Bucket: Sendable, Hashable {
        var index: Int32
        var count: UInt64
    }

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
        add(n, toBucket: Self.bucket(ofMilliseconds: ms))
        count += n
    }

    private mutating func add(_ n: UInt64, toBucket index: Int32) {
        var low = 0
        var high = buckets.count
        while low < high {
            let middle = (low + high) / 2
            if buckets[middle].index < index { low = middle + 1 } else { high = middle }
        }
        if low < buckets.count, buckets[low].index == index {
            buckets[low].count += n
        } else {
            // Room for a few values at once: a minute's histogram in a batch gets a handful, and
            // growing one at a time reallocated it at the first, second and third.
            if buckets.isEmpty { buckets.reserveCapacity(4) }
            buckets.insert(Bucket(index: index, count: n), at: low)
        }
    }

    public mutating func merge(_ other: LatencyHistogram) {
        guard !other.buckets.isEmpty else {
            count += other.count
            return
        }
        guard !buckets.isEmpty else {
            count += other.count
            buckets = other.buckets
            return
        }
        if other.buckets.count * 8 < buckets.count {  // a few values into many: insert them
            for bucket in other.buckets { add(bucket.count, toBucket: bucket.index) }
            count += other.count
            return
        }
        var merged: [Bucket] = []
        merged.reserveCapacity(buckets.count + other.buckets.count)
        var (i, j) = (0, 0)
        while i < buckets.count, j < other.buckets.count {
            let (a, b) = (buckets[i], other.buckets[j])
            if a.index < b.index {
                merged.append(a)
                i += 1
            } else if b.index < a.index {
                merged.append(b)
                j += 1
            } else {
                merged.append(Bucket(index: a.index, count: a.count + b.count))
                i += 1
                j += 1
            }
        }
        merged += buckets[i...]
        merged += other.buckets[j...]
        buckets = merged
        count += other.count
    }

    /// The nearest-rank quantile (q in 0...1), or nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for bucket in buckets {
            seen += bucket.count
            if seen >= rank { return Self.milliseconds(ofBucket: bucket.index) }
        }
        return nil
    }

    // MARK: serialized form: LEB128 varints of (index delta, count) pairs in index order

    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(buckets.count * 3)
        serialize { bytes.append($0) }
        return bytes
    }

    /// `serialized`, byte by byte: PostgreSQL's ingest writes it straight into its statement.
    func serialize(_ emit: (UInt8) -> Void) {
        var previous: Int32 = 0
        for bucket in buckets {
            Self.varint(UInt64(bucket.index - previous), emit)
            Self.varint(bucket.count, emit)
            previous = bucket.index
        }
    }

    /// nil when the bytes are not a histogram this type wrote.
    public init?(serialized bytes: some Collection<UInt8>) {
        var iterator = bytes.makeIterator()
        var index: Int32 = 0
        while let delta = Self.readVarint(&iterator) {
            guard let n = Self.readVarint(&iterator), delta <= 4_000 else { return nil }
            index += Int32(delta)
            guard index <= 4_000 else { return nil }
            if let last = buckets.indices.last, buckets[last].index == index {
                buckets[last].count += n
            } else {
                buckets.append(Bucket(index: index, count: n))
            }
            count += n
        }
    }

    private static func varint(_ value: UInt64, _ emit: (UInt8) -> Void) {
        var v = value
        while v >= 0x80 {
            emit(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        emit(UInt8(v))
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

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// RFC 9562 version 7 identifiers: time-ordered, so results sort by when they started.
public enum UUIDv7 {
    public static func generate(at date: Date = WallClock.now) -> String {
        var generator = PooledRandom()
        return generate(milliseconds: UInt64(date.timeIntervalSince1970 * 1000), using: &generator)
    }

    public static func generate(milliseconds: UInt64, using generator: inout some RandomNumberGenerator) -> String {
        let random = generator.next() as UInt64
        let random2 = generator.next() as UInt64
        // 48-bit big-endian milliseconds, version 7, 12 random bits, variant 10, 62 random bits.
        let high = (milliseconds << 16) | 0x7000 | (random & 0x0FFF)
        let low = (random2 & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { out in
            let digits: StaticString = "0123456789abcdef"
            var position = 0
            for nibble in 0..<32 {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    out[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = nibble < 16 ? high : low
                out[position] = digits.utf8Start[Int((word >> UInt64(4 * (15 - nibble % 16))) & 0xF)]
                position += 1
            }
            return position
        }
    }
}

/// Kernel randomness drawn 512 bytes at a time: one `getrandom` call (inside `arc4random_buf`,
/// glibc 2.36) per 32 result ids, where Swift's `SystemRandomNumberGenerator` and `arc4random` make
/// one per draw, two per id.
struct PooledRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        randomPool.withLock { $0.next() }
    }
}

private let randomPool = Mutex(RandomPool())

private struct RandomPool: ~Copyable {
    private var words = [UInt64](repeating: 0, count: 64)
    private var used = 64

    mutating func next() -> UInt64 {
        if used == words.count {
            refill()
            used = 0
        }
        defer { used += 1 }
        return words[used]
    }

    private mutating func refill() {
        words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
    }
}

extension String {
    /// Pads on the left to `width` characters (numbers in timestamps, right-aligned table columns).
    public func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

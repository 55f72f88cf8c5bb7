import Foundation

/// RFC 9562 version 7 identifiers: time-ordered, so results sort by when they started.
public enum UUIDv7 {
    public static func generate(at date: Date = Date()) -> String {
        var generator = ChaChaGenerator()
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

/// glibc's and Darwin's arc4random: a ChaCha20 stream per thread, seeded from the kernel. Swift's
/// `SystemRandomNumberGenerator` makes a `getrandom` system call for every 8 bytes, two per
/// result id.
struct ChaChaGenerator: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        var value: UInt64 = 0
        arc4random_buf(&value, MemoryLayout<UInt64>.size)
        return value
    }
}

extension String {
    /// Pads on the left to `width` characters (numbers in timestamps, right-aligned table columns).
    public func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

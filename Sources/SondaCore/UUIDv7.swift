import Foundation

/// RFC 9562 version 7 identifiers: time-ordered, so results sort by when they started.
public enum UUIDv7 {
    public static func generate(at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(milliseconds: UInt64(date.timeIntervalSince1970 * 1000), using: &generator)
    }

    public static func generate(milliseconds: UInt64, using generator: inout some RandomNumberGenerator) -> String {
        let random = generator.next() as UInt64
        let random2 = generator.next() as UInt64
        // 48-bit big-endian milliseconds, version 7, 12 random bits, variant 10, 62 random bits.
        let high = (milliseconds << 16) | 0x7000 | (random & 0x0FFF)
        let low = (random2 & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: UInt8(ascii: "-"), count: 36)
        var position = 0
        for (word, nibbles) in [(high, 16), (low, 16)] {
            for i in 0..<nibbles {
                if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
                out[position] = digits[Int((word >> UInt64(4 * (15 - i))) & 0xF)]
                position += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// Pads on the left to `width` characters (numbers in timestamps, right-aligned table columns).
    public func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

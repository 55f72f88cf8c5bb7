import Foundation

/// RFC 9562 version 7 identifiers: time-ordered, so results sort by when they started.
public enum UUIDv7 {
    public static func generate(at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(milliseconds: UInt64(date.timeIntervalSince1970 * 1000), using: &generator)
    }

    public static func generate(milliseconds: UInt64, using generator: inout some RandomNumberGenerator) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - UInt64(i)))) }
        let random = generator.next() as UInt64
        let random2 = generator.next() as UInt64
        for i in 6..<16 {
            let source = i < 14 ? random : random2
            bytes[i] = UInt8(truncatingIfNeeded: source >> (8 * UInt64(i % 8)))
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex[hex.index(hex.startIndex, offsetBy: range.lowerBound)..<hex.index(hex.startIndex, offsetBy: range.upperBound)])
        }
        return parts.joined(separator: "-")
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

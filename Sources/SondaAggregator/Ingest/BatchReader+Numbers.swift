import Foundation

/// Numbers: JSON's grammar checked byte by byte, then read as Doubles.
extension BatchReader {
    mutating func double() throws -> Double {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "-") || (0x30...0x39).contains(bytes[position])
        else { throw mismatch("a number") }
        let text = try numberText()
        if let value = Self.shortDecimal(text) { return value }
        let value = text.withMemoryRebound(to: CChar.self) { chars in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: chars.count + 1) { buffer in
                _ = buffer.initialize(fromContentsOf: chars)
                buffer[chars.count] = 0
                return strtod(buffer.baseAddress!, nil)
            }
        }
        guard value.isFinite else { throw failure("must be a number within range") }
        return value
    }

    /// A number of at most 15 significant digits, 15 after the point and no exponent (a phase's
    /// milliseconds, a status), as strtod reads it but without its cost: the digits make an
    /// integer below 2^53 and the point a power of ten up to 10^15, both exact as Doubles, so
    /// their one division is correctly rounded (Clinger's fast path). nil for any other number.
    static func shortDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var mantissa: Int64 = 0
        var digits = 0
        var fraction = -1
        let negative = text.first == UInt8(ascii: "-")
        for byte in text.dropFirst(negative ? 1 : 0) {
            if byte == UInt8(ascii: ".") {
                fraction = 0
                continue
            }
            guard byte &- 0x30 < 10, digits < 15, fraction < 15 else { return nil }  // an exponent, or too long
            mantissa = mantissa * 10 + Int64(byte &- 0x30)
            if mantissa > 0 { digits += 1 }  // leading zeros leave the integer as it is
            if fraction >= 0 { fraction += 1 }
        }
        let value = Double(mantissa) / powersOfTen[max(fraction, 0)]
        return negative ? -value : value
    }

    private static let powersOfTen: [Double] = [
        1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ]

    mutating func int() throws -> Int {
        let start = position
        let value = try double()
        guard value == value.rounded(), abs(value) < 9.0e15 else {
            position = start
            throw failure("must be a whole number")
        }
        return Int(value)
    }

    /// A number's bytes, checked against JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func numberText() throws -> UnsafeBufferPointer<UInt8> {
        let start = position
        func digits(_ r: inout BatchReader) -> Int {
            let from = r.position
            while r.position < r.bytes.count, (0x30...0x39).contains(r.bytes[r.position]) { r.position += 1 }
            return r.position - from
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, (0x30...0x39).contains(bytes[position]) else { throw syntax("invalid number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            _ = digits(&self)
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw syntax("invalid number") }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits(&self) > 0 else { throw syntax("invalid number") }
        }
        return UnsafeBufferPointer(rebasing: bytes[start..<position])
    }
}

import Foundation

/// The one JSON form of results: sorted keys, unescaped slashes, UTC timestamps with milliseconds.
public enum ResultJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 timestamp: \(text)")
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 UTC timestamps with millisecond precision ("2026-11-23T10:00:00.123Z").
public enum Timestamp {
    /// RFC 3339 UTC with milliseconds, rounded down: `2026-12-07T02:22:32.123Z`.
    public static func format(_ date: Date) -> String {
        withText(date) { String(decoding: $0, as: UTF8.self) }
    }

    /// `format`'s 24 bytes, for writers that append them without building a String. The date
    /// comes from the day count by Howard Hinnant's `civil_from_days`
    /// (https://howardhinnant.github.io/date_algorithms.html): glibc's `gmtime_r` takes the time
    /// zone lock and cost about 2 000 instructions a timestamp, and a result has up to seven.
    public static func withText<R>(_ date: Date, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = milliseconds.floorDivided(by: 1000)
        let millis = milliseconds - seconds * 1000
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = seconds - days * 86_400
        let shifted = days + 719_468  // days since 0000-03-01
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            var at = 0
            func put(_ byte: UInt8) {
                text[at] = byte
                at += 1
            }
            func two(_ v: Int64, then separator: UInt8) {
                put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v / 10))
                put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10))
                if separator != 0 { put(separator) }
            }
            two(year / 100, then: 0)
            two(year % 100, then: UInt8(ascii: "-"))
            two(month, then: UInt8(ascii: "-"))
            two(day, then: UInt8(ascii: "T"))
            two(secondOfDay / 3600, then: UInt8(ascii: ":"))
            two(secondOfDay / 60 % 60, then: UInt8(ascii: ":"))
            two(secondOfDay % 60, then: UInt8(ascii: "."))
            put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millis / 100))
            two(millis % 100, then: UInt8(ascii: "Z"))
            return try body(UnsafeBufferPointer(rebasing: text[..<at]))
        }
    }

    /// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` or with an offset (`-03:00`), `T`/`Z` in
    /// either case. Read here, not by ISO8601DateFormatter: ICU's parser behind it traps (SIGFPE)
    /// on some malformed text, which `make fuzz` found, and ingest reads every result's time.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// `parse` of the text's UTF-8 bytes (the batch reader's, without making a String of them).
    public static func parse(utf8 text: UnsafeBufferPointer<UInt8>) -> Date? {
        // An offset can carry year 0000 or 9999 past them in UTC, where `format` has no four-digit
        // year to write (`make fuzz` found the writer trapping on year -1).
        parse(text).flatMap { representable.contains($0.timeIntervalSince1970) ? $0 : nil }
    }

    /// 0000-01-01T00:00:00.000Z through 9999-12-31T23:59:59.999Z.
    static let representable = -62_167_219_200.0...253_402_300_799.999
}

extension Timestamp {
    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] | 0x20 == UInt8(ascii: "t"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for i in range {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                value = value * 10 + Int32(b[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < b.count, (0x30...0x39).contains(b[i]) {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > 20 else { return nil }
        }
        guard i < b.count else { return nil }
        var offsetSeconds = 0
        if b[i] | 0x20 == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard b.count == i + 6, b[i + 3] == UInt8(ascii: ":"), let h = number((i + 1)..<(i + 3)),
                let m = number((i + 4)..<(i + 6)), h < 24, m < 60
            else { return nil }
            offsetSeconds = Int(h * 3600 + m * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        }
        guard i == b.count else { return nil }
        let seconds = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400
            + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
        return Date(timeIntervalSince1970: Double(seconds - Int64(offsetSeconds)) + fraction)
    }

    /// Days from 1970-01-01 to a date, by Howard Hinnant's `days_from_civil` (see `withText`):
    /// glibc's `timegm` takes the time zone lock, and was a tenth of the batch reader's time. Like
    /// `timegm`, a day past its month's end counts on into the next month (the 31st of February
    /// is the 3rd of March, or the 2nd in a leap year); `second` may be 60.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Int64 {
    /// The quotient rounded toward negative infinity (`/` rounds toward zero): the minute, day or
    /// second a time before 1970 falls in.
    public func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

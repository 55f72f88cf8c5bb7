/// Durations as people write them in configs and flags: `150ms`, `2s`, `1.5s`, `5m`, `1h`, `21d`, `250us`.
public enum DurationParsing {
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var text: String
        /// A well-formed duration past `longest`.
        public var tooLong = false
        public var description: String {
            tooLong
                ? "invalid duration '\(text)': longer than 100 years"
                : "invalid duration '\(text)': expected a number and a unit (us, ms, s, m, h, d), e.g. 150ms, 2s, 5m"
        }
    }

    /// 100 years: longer is a typo, and would overflow the clocks' arithmetic (`make fuzz` found
    /// a config of 1e98 hours trapping the loader).
    public static let longestSeconds: Double = 100 * 365.25 * 86_400

    static let units: [(suffix: String, seconds: Double)] = [
        ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400),
    ]

    public static func parse(_ text: String) throws(Failure) -> Duration {
        let trimmed = text.trimmingSpaces()
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = String(trimmed.dropLast(unit.suffix.count))
            // "ms" also ends in "s": let the longer suffix win.
            if unit.suffix == "s" && (number.hasSuffix("m") || number.hasSuffix("u") || number.hasSuffix("µ")) {
                continue
            }
            guard let value = Double(number), value >= 0, value.isFinite, number.first != "+" else { break }
            // The fraction from the seconds, not from seconds × 1e18: at 7d that product is past
            // Double's exact range and its remainder is noise (7d read as 604800.000999… s).
            let seconds = value * unit.seconds
            guard seconds <= longestSeconds else { throw Failure(text: text, tooLong: true) }
            let whole = seconds.rounded(.down)
            return Duration(
                secondsComponent: Int64(whole), attosecondsComponent: Int64(((seconds - whole) * 1e18).rounded()))
        }
        throw Failure(text: text)
    }

    /// "150ms", "2s", "1.5s", "5m": the shortest faithful spelling, for messages and tables.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms < 1 { return trim(ms * 1000) + "us" }
        if ms < 1000 { return trim(ms) + "ms" }
        let s = ms / 1000
        if s < 60 || s.truncatingRemainder(dividingBy: 60) != 0 { return trim(s) + "s" }
        if s.truncatingRemainder(dividingBy: 86_400) == 0 { return trim(s / 86_400) + "d" }
        if s.truncatingRemainder(dividingBy: 3600) == 0 { return trim(s / 3600) + "h" }
        return trim(s / 60) + "m"
    }

    private static func trim(_ v: Double) -> String {
        let rounded = (v * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}

extension Duration {
    public var milliseconds: Double {
        let (s, atto) = components
        return Double(s) * 1000 + Double(atto) / 1e15
    }

    /// Whole and fractional seconds, as a TimeInterval counts them.
    public var intervalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

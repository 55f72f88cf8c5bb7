import Testing

@testable import SondaCore

@Suite struct DurationParsingTests {
    @Test(arguments: [
        ("150ms", 150.0), ("2s", 2000), ("1.5s", 1500), ("5m", 300_000), ("1h", 3_600_000), ("21d", 1_814_400_000),
        ("250us", 0.25), (" 30s ", 30_000), ("0s", 0),
    ])
    func parses(text: String, milliseconds: Double) throws {
        #expect(abs(try DurationParsing.parse(text).milliseconds - milliseconds) < 1e-6)
    }

    @Test(arguments: ["", "5", "ms", "-1s", "1.2.3s", "10 parsecs", "+5s", "5S"])
    func rejectsWithAMessageThatShowsTheForm(text: String) {
        #expect(throws: DurationParsing.Failure.self) { try DurationParsing.parse(text) }
        #expect(DurationParsing.Failure(text: text).description.contains("e.g. 150ms"))
    }

    /// Past 100 years a duration is refused, not converted: 1e98 hours trapped the config loader
    /// (found by `make fuzz`).
    @Test(arguments: ["36525.1d", "1e98h", "111111111111111111111111111111111111111h", "4e9s"])
    func rejectsDurationsLongerThanACentury(text: String) {
        #expect(throws: DurationParsing.Failure(text: text, tooLong: true)) { try DurationParsing.parse(text) }
        #expect(DurationParsing.Failure(text: text, tooLong: true).description.hasSuffix("longer than 100 years"))
    }

    @Test func aCenturyIsLongEnough() throws {
        #expect(try DurationParsing.parse("36525d") == .seconds(36_525 * 86_400))
    }

    @Test func formatsTheShortestFaithfulSpelling() {
        #expect(DurationParsing.format(.milliseconds(150)) == "150ms")
        #expect(DurationParsing.format(.milliseconds(1500)) == "1.5s")
        #expect(DurationParsing.format(.seconds(300)) == "5m")
        #expect(DurationParsing.format(.seconds(7 * 86_400)) == "7d")
    }

    @Test func wholeDaysParseExactly() throws {
        #expect(try DurationParsing.parse("7d") == .seconds(7 * 86_400))
        #expect(try DurationParsing.parse("21d") == .seconds(21 * 86_400))
        #expect(try DurationParsing.parse("1.5s") == .milliseconds(1500))
        #expect(DurationParsing.format(try DurationParsing.parse("30d")) == "30d")
    }
}

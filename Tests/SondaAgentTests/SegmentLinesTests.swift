import Testing

@testable import SondaAgent

/// Reading a segment back: whole result lines are kept, torn or corrupt ones counted.
@Suite struct SegmentLinesTests {
    static func split(_ text: String) -> (lines: [String], unreadable: Int) {
        let (lines, unreadable) = SegmentLines.split(Array(text.utf8))
        return (lines.map { String(decoding: $0, as: UTF8.self) }, unreadable)
    }

    @Test func keepsWholeObjectsAndCountsTheRest() {
        let text = [
            #"{"id":"a","phases":{"dns":1.5},"tags":[1,[2]]}"#,
            #"{"id":"b","error":"brace } and quote \" and bracket ] in a string"}"#,
            #"{"id":"c","path":"C:\\"}"#,  // an escaped backslash ends the string
            #"{"id":"d","phases":{"dns":1"#,  // torn mid-object, then a newline
            #"{"id":"e"}trailing"#,  // something after the object closes
            #"["not","an","object"]"#,
            "{\"id\":\"f\u{0}\"}",  // a NUL in a string is the string's business
            "{\"id\":\"g\"\u{0}}",  // one outside a string is corruption
            "",
            #"{"id":"h"}"#,
        ].joined(separator: "\n") + "\n" + #"{"id":"torn-at-the-end"#
        let (lines, unreadable) = Self.split(text)
        #expect(lines == [
            #"{"id":"a","phases":{"dns":1.5},"tags":[1,[2]]}"#,
            #"{"id":"b","error":"brace } and quote \" and bracket ] in a string"}"#,
            #"{"id":"c","path":"C:\\"}"#,
            "{\"id\":\"f\u{0}\"}",
            #"{"id":"h"}"#,
        ])
        #expect(unreadable == 5, "d, e, the array, g and the torn last line")
    }

    @Test func emptyAndNewlineOnlySegmentsHaveNoLines() {
        #expect(Self.split("").lines.isEmpty && Self.split("").unreadable == 0)
        #expect(Self.split("\n\n").lines.isEmpty && Self.split("\n\n").unreadable == 0)
        #expect(Self.split("{").unreadable == 1)
    }
}

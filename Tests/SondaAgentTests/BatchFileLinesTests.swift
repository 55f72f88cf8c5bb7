import Testing

@testable import SondaAgent

/// Reading a batch file back: whole result lines are kept, torn or corrupt ones counted.
@Suite struct BatchFileLinesTests {
    /// The kept objects as the JSON array they are spliced into, and the count of the rest.
    static func join(_ text: String) -> (array: String, count: Int, unreadable: Int) {
        let (objects, count, unreadable) = BatchFileLines.join(Array(text.utf8))
        return ("[" + String(decoding: objects, as: UTF8.self) + "]", count, unreadable)
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
            #"{"id":"i","s":"\\\"}\\\\"}"#,  // an escaped backslash, an escaped quote, two backslashes
            #"{"id":"j","s":"never closed}"#,
        ].joined(separator: "\n") + "\n" + #"{"id":"torn-at-the-end"#
        let (array, count, unreadable) = Self.join(text)
        let kept = [
            #"{"id":"a","phases":{"dns":1.5},"tags":[1,[2]]}"#,
            #"{"id":"b","error":"brace } and quote \" and bracket ] in a string"}"#,
            #"{"id":"c","path":"C:\\"}"#,
            "{\"id\":\"f\u{0}\"}",
            #"{"id":"h"}"#,
            #"{"id":"i","s":"\\\"}\\\\"}"#,
        ]
        #expect(array == "[" + kept.joined(separator: ",") + "]")
        #expect(count == 6)
        #expect(unreadable == 6, "d, e, the array, g, j and the torn last line")
    }

    @Test func emptyAndNewlineOnlyBatchFilesHaveNoLines() {
        #expect(Self.join("") == ("[]", 0, 0))
        #expect(Self.join("\n\n") == ("[]", 0, 0))
        #expect(Self.join("{").unreadable == 1)
    }

    /// A batch sent in parts (after a 413) is cut between its objects, never at a comma or brace
    /// inside a string.
    @Test func objectRangesCutABatchBetweenItsObjects() {
        let objects = [
            #"{"id":"a","error":"a, b } and {\"c\",[d]"}"#,
            #"{"id":"b","tags":[1,{"x":","}]}"#,
            #"{"id":"c","path":"C:\\"}"#,
        ]
        let bytes = Array(objects.joined(separator: ",").utf8)
        let ranges = BatchFileLines.objectRanges(bytes)
        #expect(ranges?.map { String(decoding: bytes[$0], as: UTF8.self) } == objects)
        #expect(BatchFileLines.objectRanges([]) == [])
        #expect(BatchFileLines.objectRanges(Array(#"{"id":"a"} {"id":"b"}"#.utf8)) == nil)
        #expect(BatchFileLines.objectRanges(Array(#"{"id":"a"},{"id":"#.utf8)) == nil)
    }
}

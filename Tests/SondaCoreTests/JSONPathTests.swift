import SondaCore
import Testing

@Suite struct JSONPathTests {
    static let document = try! JSONValue.parse(
        Array(
            #"""
            {"data":{"token":"abc\"def","ttl":3600},"slots":[{"id":7,"time":"09:00"},{"id":8,"time":"09:30"}],
             "content-type":"application/json","ok":true,"none":null,"ratio":0.5,"name":"S\u00e3o Paulo \ud83c\udfe5",
             "empty":[],"dup":1,"dup":2}
            """#.utf8))

    struct Found: Sendable, CustomTestStringConvertible {
        var path: String
        /// The value as JSON text, or nil when the path selects nothing.
        var json: String?
        var testDescription: String { "\(path) → \(json ?? "absent")" }
    }

    static let found: [Found] = [
        Found(path: "$.data.token", json: #""abc\"def""#),
        Found(path: "$.data.ttl", json: "3600"),
        Found(path: "$.slots[0].id", json: "7"),
        Found(path: "$.slots[-1].time", json: #""09:30""#),
        Found(path: "$.slots[1]", json: #"{"id":8,"time":"09:30"}"#),
        Found(path: "$['content-type']", json: #""application/json""#),
        Found(path: #"$["slots"][0]['time']"#, json: #""09:00""#),
        Found(path: "$.ok", json: "true"),
        Found(path: "$.none", json: "null"),
        Found(path: "$.ratio", json: "0.5"),
        Found(path: "$.name", json: #""São Paulo 🏥""#),
        Found(path: "$.dup", json: "2"),
        Found(path: "$.slots[2]", json: nil),
        Found(path: "$.slots[-3]", json: nil),
        Found(path: "$.slots.id", json: nil),
        Found(path: "$.data[0]", json: nil),
        Found(path: "$.missing.deeper", json: nil),
    ]

    @Test(arguments: found)
    func evaluates(_ c: Found) throws {
        let path = try JSONPath(c.path)
        #expect(path.evaluate(in: Self.document)?.jsonText == c.json)
    }

    @Test func rootSelectsTheWholeDocument() throws {
        #expect(try JSONPath("$").evaluate(in: Self.document) == Self.document)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var path: String
        var message: String
        var testDescription: String { path }
    }

    static let invalid: [Invalid] = [
        Invalid(path: "", message: "a JSON path starts with '$' at column 1"),
        Invalid(path: "data.token", message: "a JSON path starts with '$' at column 1"),
        Invalid(path: "$.", message: "expected a key after '.' at column 3"),
        Invalid(path: "$..token", message: "recursive descent '..' is not supported at column 2"),
        Invalid(path: "$.slots[", message: "unclosed '[' at column 8"),
        Invalid(path: "$.slots[0", message: "expected ']' at column 10"),
        Invalid(path: "$.slots[x]", message: "expected an array index or a quoted key inside '[ ]', got 'x' at column 9"),
        Invalid(path: "$.slots[*]", message: "wildcards are not supported at column 9"),
        Invalid(path: "$['token", message: "unterminated quoted key at column 3"),
        Invalid(path: "$token", message: "expected '.' or '[' before 't' at column 2"),
    ]

    @Test(arguments: invalid)
    func reportsSyntaxErrorsWithTheirColumn(_ c: Invalid) {
        #expect(JSONPath.validate(c.path) == c.message)
        #expect(throws: JSONPath.SyntaxError.self) { try JSONPath(c.path) }
    }

    @Test(arguments: ["$", "$.data.token", "$.slots[0].id", "$.slots[-1]", "$['a b']", #"$["x"]"#])
    func validPathsPassValidation(_ path: String) {
        #expect(JSONPath.validate(path) == nil)
    }

    struct Equality: Sendable, CustomTestStringConvertible {
        var path: String
        var literal: String
        var equal: Bool
        var testDescription: String { "\(path) \(equal ? "==" : "!=") \(literal)" }
    }

    static let equality: [Equality] = [
        Equality(path: "$.slots[0].time", literal: "09:00", equal: true),
        Equality(path: "$.slots[0].time", literal: #""09:00""#, equal: true),
        Equality(path: "$.slots[0].id", literal: "7", equal: true),
        Equality(path: "$.slots[0].id", literal: "7.0", equal: true),
        Equality(path: "$.slots[0].id", literal: #""7""#, equal: false),
        Equality(path: "$.ok", literal: "true", equal: true),
        Equality(path: "$.ok", literal: "false", equal: false),
        Equality(path: "$.none", literal: "null", equal: true),
        Equality(path: "$.none", literal: #""null""#, equal: false),
        Equality(path: "$.ratio", literal: "5e-1", equal: true),
        Equality(path: "$.data.token", literal: #"abc"def"#, equal: true),
        Equality(path: "$.slots", literal: "2", equal: false),
    ]

    @Test(arguments: equality)
    func comparesAgainstScalarsWrittenAsText(_ c: Equality) throws {
        let value = try #require(try JSONPath(c.path).evaluate(in: Self.document))
        #expect(value.equals(literal: c.literal) == c.equal)
    }

    @Test func lengthAndVariableText() throws {
        func value(_ path: String) throws -> JSONValue { try #require(try JSONPath(path).evaluate(in: Self.document)) }
        #expect(try value("$.slots").length == 2)
        #expect(try value("$.slots[0]").length == 2)
        #expect(try value("$.name").length == 11)
        #expect(try value("$.empty").length == 0)
        #expect(try value("$.ok").length == nil)
        #expect(try value("$.data.token").text == #"abc"def"#)
        #expect(try value("$.slots[0].id").text == "7")
        #expect(try value("$.slots[0]").text == #"{"id":7,"time":"09:00"}"#)
    }

    @Test(arguments: ["", "{", "[1,]", #"{"a" 1}"#, "01", "1.", "-", "tru", #""\x""#, "[1] 2", "\"a\nb\""])
    func rejectsMalformedJSON(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func refusesHostileNesting() {
        let deep = Array(String(repeating: "[", count: 10_000).utf8)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(deep) }
    }
}

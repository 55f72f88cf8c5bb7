/// The JSONPath subset flows use to assert on and extract from JSON bodies: the root `$`, then
/// any number of `.key`, `['key']` (or `["key"]`) and `[index]` (negative counts from the end),
/// e.g. `$.data.token`, `$.slots[0].id`, `$['content-type']`, `$.slots[-1]`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public typealias Value = JSONValue

    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// What is wrong with a path, and at which character (1-based) of it.
    public struct SyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var column: Int
        public var description: String { "\(message) at column \(column)" }
    }

    public let components: [Component]
    public let description: String

    public init(_ text: String) throws(SyntaxError) {
        description = text
        components = try Self.parse(Array(text.unicodeScalars))
    }

    /// Nil when `text` is a valid path; otherwise what is wrong with it, for a config diagnostic.
    public static func validate(_ text: String) -> String? {
        do {
            _ = try JSONPath(text)
            return nil
        } catch {
            return error.description
        }
    }

    /// The value the path selects, or nil when some step of it is absent.
    public func evaluate(in document: JSONValue) -> JSONValue? {
        var value = document
        for component in components {
            switch component {
            case .key(let key): guard let next = value[key] else { return nil }; value = next
            case .index(let index): guard let next = value[index] else { return nil }; value = next
            }
        }
        return value
    }

    private static func parse(_ s: [Unicode.Scalar]) throws(SyntaxError) -> [Component] {
        func fail(_ message: String, _ at: Int) -> SyntaxError { SyntaxError(message: message, column: at + 1) }
        guard s.first == "$" else { throw fail("a JSON path starts with '$'", 0) }
        var components: [Component] = []
        var i = 1
        while i < s.count {
            switch s[i] {
            case ".":
                i += 1
                if i < s.count, s[i] == "." { throw fail("recursive descent '..' is not supported", i - 1) }
                let start = i
                while i < s.count, !".[]'\" \t".unicodeScalars.contains(s[i]) { i += 1 }
                guard i > start else { throw fail("expected a key after '.'", start) }
                let key = String(String.UnicodeScalarView(s[start..<i]))
                if key == "*" { throw fail("wildcards are not supported", start) }
                components.append(.key(key))
            case "[":
                let open = i
                i += 1
                guard i < s.count else { throw fail("unclosed '['", open) }
                if s[i] == "'" || s[i] == "\"" {
                    let quote = s[i]
                    i += 1
                    var key = String.UnicodeScalarView()
                    while i < s.count, s[i] != quote {
                        if s[i] == "\\", i + 1 < s.count { i += 1 }
                        key.append(s[i])
                        i += 1
                    }
                    guard i < s.count else { throw fail("unterminated quoted key", open + 1) }
                    i += 1
                    components.append(.key(String(key)))
                } else {
                    let start = i
                    while i < s.count, s[i] != "]" { i += 1 }
                    let text = String(String.UnicodeScalarView(s[start..<i]))
                    if text == "*" { throw fail("wildcards are not supported", start) }
                    guard let index = Int(text) else {
                        throw fail("expected an array index or a quoted key inside '[ ]', got '\(text)'", start)
                    }
                    components.append(.index(index))
                }
                guard i < s.count, s[i] == "]" else { throw fail("expected ']'", i) }
                i += 1
            default:
                throw fail("expected '.' or '[' before '\(s[i])'", i)
            }
        }
        return components
    }
}

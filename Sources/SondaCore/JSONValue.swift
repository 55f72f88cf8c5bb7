/// A parsed JSON document, as flow assertions and extractions see it.
public enum JSONValue: Sendable, Hashable {
    case string(String)
    /// The number as written, so `7` stays `7` and a large integer keeps every digit.
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in document order; a repeated key resolves to its last occurrence.
    case object([Member])

    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// A negative index counts from the end (`-1` is the last element).
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self else { return nil }
        let position = index < 0 ? elements.count + index : index
        return elements.indices.contains(position) ? elements[position] : nil
    }

    /// The value as a variable holds it: a string without quotes, anything else as JSON text.
    public var text: String {
        if case .string(let string) = self { return string }
        return jsonText
    }

    /// The value as JSON text (strings quoted and escaped), for messages.
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Elements of an array or object, characters of a string; nil for other values.
    public var length: Int? {
        switch self {
        case .array(let elements): elements.count
        case .object(let members): members.count
        case .string(let string): string.count
        default: nil
        }
    }

    /// Whether the value equals a JSON scalar written as text: `"ok"` or `ok` (a string), `42`,
    /// `4.2e1`, `true`, `false`, `null`. A quoted literal is always a string.
    public func equals(literal: String) -> Bool {
        Self.scalar(literal: literal) == self || numericallyEqual(to: literal)
    }

    /// The JSON scalar a literal as written in a config stands for.
    public static func scalar(literal: String) -> JSONValue {
        let trimmed = literal.trimmingSpaces()
        if let parsed = try? JSONValue.parse(Array(trimmed.utf8)) {
            switch parsed {
            case .string, .number, .bool, .null: return parsed
            default: break
            }
        }
        return .string(literal)
    }

    private func numericallyEqual(to literal: String) -> Bool {
        guard case .number(let actual) = self, case .number(let expected) = Self.scalar(literal: literal),
            let a = Double(actual), let b = Double(expected)
        else { return false }
        return a == b
    }

    private func write(to out: inout String) {
        switch self {
        case .string(let string): Self.writeQuoted(string, to: &out)
        case .number(let number): out += number
        case .bool(let bool): out += bool ? "true" : "false"
        case .null: out += "null"
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                Self.writeQuoted(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeQuoted(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

import Foundation
import SondaCore

/// The JSON grammar (RFC 8259) under `BatchReader`: whitespace, objects, arrays, strings with
/// escapes and UTF-8 validation, literals, and skipping values it does not need (numbers are in
/// BatchReader+Numbers.swift).
extension BatchReader {
    /// An object key as it appears in the body; compared without allocating unless escaped.
    struct Key {
        let bytes: UnsafeBufferPointer<UInt8>
        let unescaped: String?

        /// The key's text as UTF-8 (unescaped).
        var name: [UInt8] { unescaped.map { Array($0.utf8) } ?? Array(bytes) }

        /// Strictly before `other` in byte order (escaped keys are never taken as in order).
        func precedes(_ other: Key) -> Bool {
            guard unescaped == nil, other.unescaped == nil else { return false }
            let n = min(bytes.count, other.bytes.count)
            let c = memcmp(bytes.baseAddress!, other.bytes.baseAddress!, n)
            return c < 0 || (c == 0 && bytes.count < other.bytes.count)
        }

        static func == (key: Key, name: StaticString) -> Bool {
            if let unescaped = key.unescaped { return unescaped == name.description }
            guard key.bytes.count == name.utf8CodeUnitCount else { return false }
            return memcmp(key.bytes.baseAddress!, name.utf8Start, key.bytes.count) == 0
        }
    }

    /// Where the reader is in an object, to refuse a key given twice: a signed body must mean one
    /// thing, whichever parser reads it. Agents write keys sorted, so each key is compared with the
    /// previous one; only out-of-order keys make the reader collect and search all of them.
    struct ObjectState {
        var first = true
        /// Just after the object's `{`.
        let start: Int
        var previous: Key?
        var keys: [[UInt8]]?

        init(start: Int) { self.start = start }
    }

    // MARK: errors

    func syntax(_ what: String) -> Failure {
        Failure(message: "body is not valid JSON: \(what) at byte \(position)")
    }

    var pathText: String {
        path.isEmpty
            ? "the body"
            : "$"
                + path.map {
                    switch $0 {
                    case .key(let name): ".\(name)"
                    case .index(let i): "[\(i)]"
                    }
                }.joined()
    }

    /// A message about the value at the current path.
    func failure(_ what: String) -> Failure { Failure(message: "\(pathText) \(what)") }

    /// The value at `position` is not of the expected kind (a syntax error if it is no value at all).
    func mismatch(_ expected: String) -> Failure {
        guard position < bytes.count else { return syntax("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "n") where matches("null"): return failure("must be \(expected), not null")
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"),
            UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return failure("must be \(expected)")
        default: return syntax("unexpected character")
        }
    }

    func required<T>(_ value: T?, _ key: StaticString) throws -> T {
        guard let value else {
            var missing = self
            missing.path.append(.key(key))
            throw missing.failure("is missing")
        }
        return value
    }

    /// Runs `body` with `key` on the path, for the messages of errors inside it.
    mutating func field<T>(_ key: StaticString, _ body: (inout BatchReader) throws -> T) throws -> T {
        if tracksPath { path.append(.key(key)) }
        skipSpace()
        let value = try body(&self)
        if tracksPath { path.removeLast() }
        return value
    }

    // MARK: structure

    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    func matches(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        return bytes.count - position >= n && memcmp(bytes.baseAddress! + position, word.utf8Start, n) == 0
    }

    /// Consumes `{`; `position` is then the `ObjectState`'s start.
    mutating func beginObject() throws {
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else { throw mismatch("an object") }
        position += 1
    }

    /// The next key of the object being read (its `:` consumed), or nil after its closing `}`.
    mutating func nextKey(_ object: inout ObjectState) throws -> Key? {
        skipSpace()
        guard position < bytes.count else { throw syntax("unexpected end of input") }
        if bytes[position] == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        let afterComma = !object.first
        if afterComma {
            guard bytes[position] == UInt8(ascii: ",") else { throw syntax("expected ',' or '}'") }
            position += 1
            skipSpace()
        }
        object.first = false
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw syntax(
                afterComma && position < bytes.count && bytes[position] == UInt8(ascii: "}")
                    ? "trailing comma" : "expected a key")
        }
        let keyStart = position
        let key = try stringBytes()
        if let previous = object.previous, object.keys == nil, previous.precedes(key) {
            object.previous = key
        } else if object.previous != nil || object.keys != nil {
            if object.keys == nil { object.keys = try keys(from: object.start, before: keyStart) }
            if object.keys!.contains(key.name) {
                position = keyStart
                throw syntax("key '\(String(decoding: key.name, as: UTF8.self))' appears twice in an object")
            }
            object.keys!.append(key.name)
        } else {
            object.previous = key
        }
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw syntax("expected ':'") }
        position += 1
        skipSpace()
        return key
    }

    /// The keys of an object from `start` (after its `{`) up to the key at `end`, which this
    /// reader has already read once, so the text is known to be well formed.
    func keys(from start: Int, before end: Int) throws -> [[UInt8]] {
        var r = self
        r.position = start
        var keys: [[UInt8]] = []
        while true {
            r.skipSpace()
            if r.bytes[r.position] == UInt8(ascii: ",") {
                r.position += 1
                r.skipSpace()
            }
            guard r.position < end else { return keys }
            keys.append(try r.stringBytes().name)
            r.skipSpace()
            r.position += 1  // the ':'
            try r.skipValue(depth: 1)
        }
    }

    /// Calls `element` for each element of an array, with its index on the path.
    mutating func array(_ element: (inout BatchReader, Int) throws -> Void) throws {
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { throw mismatch("a list") }
        position += 1
        var index = 0
        while true {
            skipSpace()
            guard position < bytes.count else { throw syntax("unexpected end of input") }
            if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return
            }
            if index > 0 {
                guard bytes[position] == UInt8(ascii: ",") else { throw syntax("expected ',' or ']'") }
                position += 1
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") { throw syntax("trailing comma") }
            }
            if tracksPath { path.append(.index(index)) }
            try element(&self, index)
            if tracksPath { path.removeLast() }
            index += 1
        }
    }

    /// nil for `null`, otherwise `value`.
    mutating func optional<T>(_ value: (inout BatchReader) throws -> T) throws -> T? {
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "n"), matches("null") {
            position += 4
            return nil
        }
        return try value(&self)
    }

    mutating func skipValue(depth: Int) throws {
        guard depth < Self.maxDepth else { throw syntax("nested deeper than \(Self.maxDepth) levels") }
        skipSpace()
        guard position < bytes.count else { throw syntax("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            position += 1
            var object = ObjectState(start: position)
            while try nextKey(&object) != nil { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try array { r, _ in try r.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try stringBytes()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try numberText()
        }
    }

    mutating func literal(_ word: StaticString) throws {
        guard matches(word) else { throw syntax("unexpected character") }
        position += word.utf8CodeUnitCount
    }

    // MARK: scalars

    mutating func bool() throws -> Bool {
        if matches("true") {
            position += 4
            return true
        }
        if matches("false") {
            position += 5
            return false
        }
        throw mismatch("true or false")
    }

    mutating func string() throws -> String {
        let key = try stringValue()
        return key.unescaped ?? String(decoding: key.bytes, as: UTF8.self)
    }

    /// A value that must be a string, as its bytes (see `stringBytes`).
    mutating func stringValue() throws -> Key {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw mismatch("a string") }
        return try stringBytes()
    }

    mutating func date() throws -> Date {
        let start = position
        let text = try stringValue()
        let date = text.unescaped.map { Timestamp.parse($0) } ?? Timestamp.parse(utf8: text.bytes)
        guard let date else {
            position = start
            throw failure("must be an RFC 3339 timestamp, got '\(String(decoding: text.name, as: UTF8.self))'")
        }
        return date
    }

    /// A string's contents, the opening quote at `position`: raw bytes when it has no escapes
    /// (the common case), otherwise decoded. Either way valid UTF-8 without control characters.
    mutating func stringBytes() throws -> Key {
        position += 1
        let start = position
        var escaped = false
        var ascii = true
        while true {
            guard position < bytes.count else { throw syntax("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw syntax("control character in a string") }
            if byte >= 0x80 { ascii = false }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                position += 1
                guard position < bytes.count else { throw syntax("unterminated string") }
            }
            position += 1
        }
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
        position += 1
        if !ascii, String(validating: raw, as: UTF8.self) == nil {
            position = start
            throw syntax("invalid UTF-8 in a string")
        }
        guard escaped else { return Key(bytes: raw, unescaped: nil) }
        return Key(bytes: raw, unescaped: try unescape(raw, at: start))
    }

    func unescape(_ raw: UnsafeBufferPointer<UInt8>, at offset: Int) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            var value: UInt32 = 0
            for b in raw[at..<at + 4] {
                guard let digit = Character(UnicodeScalar(b)).hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            let bad = Failure(message: "body is not valid JSON: invalid escape at byte \(offset + i)")
            switch raw[i + 1] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(i + 2) else { throw bad }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 7 < raw.count, raw[i + 6] == UInt8(ascii: "\\"), raw[i + 7] == UInt8(ascii: "u"),
                        let low = hex4(i + 8), (0xDC00..<0xE000).contains(low)
                    else { throw bad }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw bad }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
                i += 4
            default: throw bad
            }
            i += 2
        }
        return String(decoding: out, as: UTF8.self)
    }
}

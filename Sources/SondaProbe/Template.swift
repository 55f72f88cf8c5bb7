import SondaCore

/// Text of a flow step with `${name}` references to variables that earlier steps extracted.
/// References that are not variable names (`${env:…}`, resolved by the config loader) are left as
/// they are.
struct Template {
    struct UndefinedVariable: Error {
        var name: String
    }

    let text: String

    init(_ text: String) { self.text = text }

    func render(_ variables: [String: String]) throws(UndefinedVariable) -> String {
        // Byte by byte: StringProtocol.contains(_:) goes through Foundation's locale-aware search,
        // and this runs for every URL and header of every probe, nearly all without a reference.
        guard Self.hasReference(text) else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            let name = rest[start.upperBound..<end]
            out += rest[..<start.lowerBound]
            if Self.isVariableName(name) {
                guard let value = variables[String(name)] else { throw UndefinedVariable(name: String(name)) }
                out += value
            } else {
                out += rest[start.lowerBound...end]
            }
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    static func hasReference(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "$") && byte == UInt8(ascii: "{") { return true }
            previous = byte
        }
        return false
    }

    static func isVariableName(_ name: Substring) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }
}

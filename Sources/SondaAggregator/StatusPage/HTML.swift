/// A piece of HTML. Interpolated strings are escaped; interpolated `HTML` is inserted as is, so
/// text from agents (check names, error messages) can only ever reach the page as text.
struct HTML: ExpressibleByStringInterpolation, Sendable {
    private(set) var rendered: String

    init(stringLiteral value: String) {
        rendered = value
    }

    init(stringInterpolation: StringInterpolation) {
        rendered = stringInterpolation.rendered
    }

    /// Markup the caller vouches for (built from literals and escaped values only).
    init(trusted markup: String) {
        rendered = markup
    }

    static let empty: HTML = ""

    static func += (lhs: inout HTML, rhs: HTML) {
        lhs.rendered += rhs.rendered
    }

    static func + (lhs: HTML, rhs: HTML) -> HTML {
        var out = lhs
        out += rhs
        return out
    }

    /// Escapes the five characters that matter in text and in double- or single-quoted attributes.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    struct StringInterpolation: StringInterpolationProtocol {
        var rendered = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            rendered.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) { rendered += literal }
        mutating func appendInterpolation(_ text: String) { rendered += HTML.escape(text) }
        mutating func appendInterpolation(_ text: Substring) { rendered += HTML.escape(String(text)) }
        mutating func appendInterpolation(_ html: HTML) { rendered += html.rendered }
        mutating func appendInterpolation(_ parts: [HTML]) { for part in parts { rendered += part.rendered } }
        mutating func appendInterpolation(_ number: Int) { rendered += String(number) }
        /// A number for SVG coordinates: at most one decimal, no exponent.
        mutating func appendInterpolation(_ number: Double) {
            rendered += SVGNumber.format(number)
        }
    }
}

extension Array where Element == HTML {
    func joined() -> HTML {
        var out = HTML.empty
        for part in self { out += part }
        return out
    }
}

enum SVGNumber {
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

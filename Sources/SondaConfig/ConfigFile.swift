import Foundation
import SondaCore
import Yams

/// A YAML file being loaded: its node tree (with marks), and its lines for quoting in diagnostics.
final class ConfigFile {
    let path: String
    let lines: [Substring]
    let sink: DiagnosticSink
    private(set) var root: Node?
    /// The YAML did not parse (and said why).
    private var unparsed = false

    init(path: String, text: String, sink: DiagnosticSink) {
        self.path = path
        self.lines = text.split(omittingEmptySubsequences: false, whereSeparator: Self.isLineBreak)
        self.sink = sink
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            unparsed = true
            report(yaml: error)
        } catch {
            unparsed = true
            sink.report(Diagnostic(file: path, line: 1, column: 1, message: "cannot parse YAML: \(error)"))
        }
    }

    /// A line break as YAML (libyaml) counts lines, so a diagnostic's line quotes the right source
    /// line: CRLF (one Character in Swift, which splitting on "\n" never matched), a lone CR, NEL,
    /// LS and PS.
    static func isLineBreak(_ c: Character) -> Bool {
        c == "\n" || c == "\r\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
    }

    /// The root of a file that must hold `what`; an empty file (or one of comments only) is an
    /// error saying so, not a silent nil (`make fuzz` found "has errors; see above" with none above).
    func root(holding what: String) -> Node? {
        if root == nil && !unparsed { error("the file is empty; expected \(what)", line: 1, column: 1) }
        return root
    }

    func error(_ message: String, at node: Node?) {
        let mark = node?.mark
        error(message, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    func error(_ message: String, line: Int, column: Int) {
        report(message, severity: .error, line: line, column: column)
    }

    func warning(_ message: String, at node: Node?) {
        report(message, severity: .warning, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    private func report(_ message: String, severity: Diagnostic.Severity, line: Int, column: Int) {
        let source = lines.indices.contains(line - 1) ? String(lines[line - 1]) : nil
        sink.report(
            Diagnostic(
                file: path, line: line, column: column, severity: severity, message: message, sourceLine: source))
    }

    private func report(yaml error: YamlError) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            self.error("invalid YAML: \(problem)", line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            self.error(
                "duplicate key\(duplicates.count == 1 ? "" : "s") \(duplicates.map { "'\($0)'" }.joined(separator: ", "))",
                line: context.mark.line, column: context.mark.column)
        default:
            self.error("invalid YAML: \(error)", line: 1, column: 1)
        }
    }
}

/// Reads one YAML mapping field by field, reporting unknown keys (with a did-you-mean), missing
/// required keys and wrong types, and carrying on so every problem is reported in one pass.
struct MappingReader {
    let file: ConfigFile
    let node: Node
    let context: String
    private var values: [String: (key: Node, value: Node)] = [:]

    /// nil (with a diagnostic) when `node` is not a mapping.
    init?(_ node: Node, in file: ConfigFile, context: String, allowed: [String]) {
        guard case .mapping(let mapping) = node else {
            file.error("\(context) must be a mapping of keys to values", at: node)
            return nil
        }
        self.file = file
        self.node = node
        self.context = context
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                file.error("keys in \(context) must be plain names", at: key)
                continue
            }
            if !allowed.contains(name) {
                file.error(
                    "unknown key '\(name)' in \(context)\(Suggestion.didYouMean(name, in: allowed))", at: key)
                continue
            }
            values[name] = (key, value)
        }
    }

    var keys: [String] { Array(values.keys) }

    func has(_ key: String) -> Bool { values[key] != nil }

    func value(_ key: String) -> Node? { values[key]?.value }

    func keyNode(_ key: String) -> Node? { values[key]?.key }

    func missing(_ key: String) {
        file.error("\(context) is missing required key '\(key)'", at: node)
    }

    func scalar(_ key: String, required: Bool = false, what: String = "a string") -> (String, Node)? {
        guard let value = values[key]?.value else {
            if required { missing(key) }
            return nil
        }
        guard let scalar = value.scalar else {
            file.error("'\(key)' must be \(what)", at: value)
            return nil
        }
        return (scalar.string, value)
    }

    func string(_ key: String, required: Bool = false) -> String? { scalar(key, required: required)?.0 }

    func duration(_ key: String, required: Bool = false) -> Duration? {
        guard let (text, node) = scalar(key, required: required, what: "a duration like 150ms, 2s or 5m") else {
            return nil
        }
        do {
            return try DurationParsing.parse(text)
        } catch {
            file.error("'\(key)': \(error)", at: node)
            return nil
        }
    }

    func int(_ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let (text, node) = scalar(key, required: required, what: "a whole number") else { return nil }
        guard let value = Int(text), range.contains(value) else {
            file.error(
                "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'",
                at: node)
            return nil
        }
        return value
    }

    /// A list of strings; a single string is taken as a list of one.
    func strings(_ key: String) -> [(String, Node)]? {
        guard let value = values[key]?.value else { return nil }
        switch value {
        case .scalar(let scalar): return [(scalar.string, value)]
        case .sequence(let sequence):
            return sequence.compactMap { item in
                guard let text = item.scalar?.string else {
                    file.error("items of '\(key)' must be strings", at: item)
                    return nil
                }
                return (text, item)
            }
        default:
            file.error("'\(key)' must be a list of strings", at: value)
            return nil
        }
    }

    func sequence(_ key: String, required: Bool = false) -> [Node]? {
        guard let value = values[key]?.value else {
            if required { missing(key) }
            return nil
        }
        guard case .sequence(let sequence) = value else {
            file.error("'\(key)' must be a list", at: value)
            return nil
        }
        return Array(sequence)
    }

    func mapping(_ key: String, allowed: [String], required: Bool = false) -> MappingReader? {
        guard let value = values[key]?.value else {
            if required { missing(key) }
            return nil
        }
        return MappingReader(value, in: file, context: "'\(key)'", allowed: allowed)
    }

    /// A mapping whose keys are free-form (header names, variables, JSON paths).
    func pairs(_ key: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard let value = values[key]?.value else { return nil }
        guard case .mapping(let mapping) = value else {
            file.error("'\(key)' must be a mapping", at: value)
            return nil
        }
        return mapping.compactMap { k, v in
            guard let name = k.scalar?.string else {
                file.error("keys of '\(key)' must be strings", at: k)
                return nil
            }
            return (name, k, v)
        }
    }
}

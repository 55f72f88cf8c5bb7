import Foundation
import Synchronization

/// One problem in a configuration file, located like a compiler's error.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String
    /// The source line the diagnostic points into, for the caret display.
    public var sourceLine: String?

    public init(
        file: String, line: Int, column: Int, severity: Severity = .error, message: String, sourceLine: String? = nil
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
        self.sourceLine = sourceLine
    }

    /// `file:line:col: error: message`, then the source line and a caret under the column.
    public var description: String {
        var text = "\(file):\(line):\(column): \(severity.rawValue): \(message)"
        if let sourceLine {
            let prefix = sourceLine.prefix(max(column - 1, 0)).map { $0 == "\t" ? "\t" : " " }.joined()
            text += "\n\(sourceLine)\n\(prefix)^"
        }
        return text
    }
}

/// Collects diagnostics across every file of a load, so all problems are reported at once.
/// Safe to report into from several threads at once.
public final class DiagnosticSink: Sendable {
    private let reported = Mutex<[Diagnostic]>([])

    public init() {}

    /// Every diagnostic, in the order reported.
    public var diagnostics: [Diagnostic] { reported.withLock { $0 } }

    public var hasErrors: Bool { reported.withLock { $0.contains { $0.severity == .error } } }

    public func report(_ diagnostic: Diagnostic) {
        reported.withLock { $0.append(diagnostic) }
    }

    /// Diagnostics in file order, then position.
    public var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            (a.element.file, a.element.line, a.element.column, a.offset)
                < (b.element.file, b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }
}

/// "did you mean 'timeout'?" for a misspelt name, when one known name is close enough.
public enum Suggestion {
    static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
        return best.0
    }

    public static func didYouMean(_ word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// Levenshtein edit distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension Diagnostic {
    /// A file that cannot be read, with the system's reason ("No such file or directory",
    /// "Permission denied": a service's user must be able to read the file and search every
    /// directory above it).
    static func unreadable(_ path: String) -> Diagnostic {
        let descriptor = open(path, O_RDONLY)
        let reason = descriptor < 0 ? String(cString: strerror(errno)) : "not valid UTF-8 text"
        if descriptor >= 0 { close(descriptor) }
        return Diagnostic(file: path, line: 1, column: 1, message: "cannot read file: \(reason)")
    }
}

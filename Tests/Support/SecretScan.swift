import Foundation

/// Looks for configured secrets in everything a run put out (logs, command output, HTTP answers,
/// files), and names each secret with the output that holds it. A secret is found as written,
/// percent-encoded and JSON-escaped (`/` as `\/`), and in any other form the test names (the
/// base64 of an HTTP Basic credential).
public struct SecretScan: Sendable {
    /// A value that must not appear in any output, and what it is (for the failure message).
    public struct Secret: Sendable {
        public var name: String
        public var value: String
        public var otherForms: [String]

        public init(_ name: String, _ value: String, alsoAs otherForms: [String] = []) {
            self.name = name
            self.value = value
            self.otherForms = otherForms
        }

        /// The forms the value could take in an output.
        var forms: Set<String> {
            var forms: Set<String> = [value, value.replacingOccurrences(of: "/", with: "\\/")]
            forms.insert(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)
            return forms.union(otherForms)
        }
    }

    /// One secret found in one output, with the text around it.
    public struct Leak: Sendable, CustomStringConvertible {
        public var secret: String
        public var output: String
        public var context: String
        public var description: String { "\(secret) leaked into \(output): …\(context)…" }
    }

    public private(set) var secrets: [Secret] = []
    public private(set) var outputs: [(name: String, text: String)] = []

    public init() {}

    /// A secret to look for; values shorter than 8 characters would match by chance and are refused.
    public mutating func secret(_ name: String, _ value: String, alsoAs otherForms: [String] = []) {
        precondition(value.count >= 8, "secret \(name) is too short to look for: '\(value)'")
        secrets.append(Secret(name, value, alsoAs: otherForms))
    }

    /// An output to search, named as the failure message should name it.
    public mutating func output(_ name: String, _ text: String) {
        outputs.append((name, text))
    }

    /// A process's captured stdout and stderr.
    public mutating func output(_ name: String, _ run: ChildProcess.Output) {
        output(name + " (stdout)", run.stdout)
        output(name + " (stderr)", run.stderr)
    }

    /// Every regular file under `directory` (recursively) but those `skipping` names by path
    /// relative to it (the configuration and key files, which hold the secrets on purpose).
    public mutating func files(under directory: String, skipping: (String) -> Bool = { _ in false }) {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return }
        for case let relative as String in walker where !skipping(relative) {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            output("file \(relative)", String(decoding: data, as: UTF8.self))
        }
    }

    /// Every secret found in every output.
    public var leaks: [Leak] {
        var found: [Leak] = []
        for (name, text) in outputs {
            for secret in secrets {
                guard let form = secret.forms.first(where: text.contains), let range = text.range(of: form) else {
                    continue
                }
                let start = text.index(range.lowerBound, offsetBy: -60, limitedBy: text.startIndex) ?? text.startIndex
                let end = text.index(range.upperBound, offsetBy: 60, limitedBy: text.endIndex) ?? text.endIndex
                found.append(Leak(secret: secret.name, output: name, context: String(text[start..<end])))
            }
        }
        return found
    }
}

import Foundation
import SondaCore
import Yams

/// Resolves `${env:NAME}` and `${file:/path}` in config strings when the config loads. Their
/// values are secrets: they go to the redactor and are never printed. `${name}` (a variable a
/// flow step extracts) is left for run time.
struct Interpolation {
    var environment: [String: String]
    var redactor = SecretRedactor()

    /// The names of run-time variables (`${name}`) that `text` uses.
    static func variables(in text: String) -> [String] {
        references(in: text).filter { !$0.contains(":") }
    }

    static func references(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            names.append(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return names
    }

    /// Replaces `${env:…}` and `${file:…}`; reports what cannot be resolved against `node`.
    /// Resolved values are secrets unless `secret` is false (a base URL from the environment is
    /// configuration, not a credential). `encoding` rewrites each value before it goes in (a
    /// password inside a URL must be percent-encoded, whatever characters it has).
    mutating func resolve(
        _ text: String, at node: Node?, in file: ConfigFile, secret: Bool = true,
        encoding: (String) -> String = { $0 }
    ) -> String {
        guard text.contains("${") else { return text }
        var result = text
        for reference in Self.references(in: text) {
            let value: String?
            if reference.hasPrefix("env:") {
                let spec = reference.dropFirst(4)
                let parts = spec.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                if let found = environment[name], !found.isEmpty {
                    value = found
                    if secret { redactor.add(found) }
                } else if parts.count == 2 {
                    value = String(parts[1])
                } else {
                    file.error("environment variable '\(name)' is not set (write ${env:\(name):-default} for a default)", at: node)
                    value = nil
                }
            } else if reference.hasPrefix("file:") {
                let path = String(reference.dropFirst(5))
                if let contents = try? String(contentsOfFile: path, encoding: .utf8) {
                    let secret = contents.trimmingCharacters(in: .whitespacesAndNewlines)
                    value = secret
                    redactor.add(secret)
                } else {
                    file.error("cannot read secret file '\(path)'", at: node)
                    value = nil
                }
            } else {
                continue
            }
            if let value {
                let encoded = encoding(value)
                if secret && encoded != value { redactor.add(encoded) }
                result = result.replacingOccurrences(of: "${\(reference)}", with: encoded)
            }
        }
        return result
    }
}

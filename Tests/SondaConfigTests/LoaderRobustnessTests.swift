import Foundation
import SondaConfig
import TestSupport
import Testing

/// Any YAML document either loads or yields diagnostics: never a crash.
@Suite struct LoaderRobustnessTests {
    /// A seeded generator of YAML-ish documents built from the config's own vocabulary, so most
    /// cases get past the YAML parser and into the loader's checks.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }

        static let keys = [
            "checks", "name", "class", "interval", "timeout", "retries", "http", "url", "method", "headers", "body",
            "expect", "status", "json", "max", "tls", "min_version", "steps", "extract", "include", "budgets",
            "tls_handshake", "labels", "agent", "profiles", "wait", "$.x", "exists", "length", "regex", "header",
        ]
        static let scalars = [
            "5s", "-1", "0", "1.3", "30 seconds", "https://a.example/x", "http://a.example", "${tok}", "${env:X}",
            "${file:/nope}", "authentication", "[", "]", "{", "}", "'", "\"", "GET", "2xx", "200-199", "true",
            "null", "~", "&a", "*a", "!!binary", "ü", "", "$.a[0", "(?<", "999999999999999999999",
        ]

        mutating func value(depth: Int) -> String {
            switch depth > 3 ? 0 : next() % 4 {
            case 0: return pick(Self.scalars)
            case 1:
                return "{"
                    + (0..<Int(next() % 3)).map { _ in "\(pick(Self.keys)): \(value(depth: depth + 1))" }.joined(
                        separator: ", ") + "}"
            case 2:
                return "[" + (0..<Int(next() % 3)).map { _ in value(depth: depth + 1) }.joined(separator: ", ") + "]"
            default: return "\"\(pick(Self.scalars))\""
            }
        }

        mutating func document() -> String {
            var lines = ["checks:"]
            for index in 0..<Int(next() % 3) {
                if next() % 2 == 0 {
                    // A valid check, sometimes with one stray line, so loading succeeds often too.
                    lines += [
                        "  - name: c\(index)", "    class: authentication", "    http: {url: \"https://a.example/x\"}",
                    ]
                    if next() % 4 == 0 { lines.append("    \(pick(Self.keys)): \(value(depth: 0))") }
                    continue
                }
                lines.append("  - name: \(pick(Self.scalars))")
                for _ in 0..<Int(next() % 5) { lines.append("    \(pick(Self.keys)): \(value(depth: 0))") }
            }
            if next() % 5 == 0 { lines.insert("\(pick(Self.keys)): \(value(depth: 0))", at: 0) }
            return lines.joined(separator: "\n")
        }
    }

    /// Seconds of CPU in a debug build (a minute of wall time in the parallel phase): on a thread
    /// of its own, not holding one of the two threads every other test's tasks share. What it
    /// finds is checked once it is done.
    @Test func tenThousandGeneratedDocumentsNeverCrash() async {
        let (loaded, rejected, problems) = await onThread { () -> (Int, Int, [String]) in
            var generator = Generator(state: 20_261_123)
            var loaded = 0
            var rejected = 0
            var problems: [String] = []
            for index in 0..<10_000 {
                var loader = ConfigLoader(environment: [:])
                let (path, text) = ("case-\(index).yaml", generator.document())
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
                if let checks = loader.loadChecks(path: path, text: text) {
                    loaded += 1
                    if loader.diagnostics.contains(where: { $0.severity == .error }) {
                        problems.append("loaded despite an error: \(text)")
                    }
                    if checks.contains(where: { $0.name.isEmpty }) { problems.append("a check without a name: \(text)") }
                } else {
                    rejected += 1
                    let errors = loader.diagnostics.filter { $0.severity == .error }
                    if errors.isEmpty { problems.append("rejected without saying why: \(text)") }
                    // Every error points into the document it is about.
                    for error in errors
                    where !(error.file == path && (1...lines + 1).contains(error.line) && error.column >= 1) {
                        problems.append("\(error) for:\n\(text)")
                    }
                }
            }
            return (loaded, rejected, problems)
        }
        #expect(problems.isEmpty, "\(problems.count) problems, the first: \(problems.prefix(3).joined(separator: "\n---\n"))")
        // The generator makes both kinds, so both branches above were checked many times.
        #expect(loaded >= 500 && rejected >= 500, "\(loaded) loaded, \(rejected) rejected")
    }

    /// A file with no YAML document (empty, blank, comments only) is an error at 1:1 for every
    /// loader that needs keys; it used to fail with no diagnostic ("has errors; see above" and
    /// nothing above). Found by `make fuzz`. A checks file may hold no checks.
    @Test(arguments: ["", "\n\n", "# only a comment\n"])
    func aFileWithoutADocumentSaysSo(_ text: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sonda.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var loaders = [ConfigLoader(environment: [:]), ConfigLoader(environment: [:]), ConfigLoader(environment: [:])]
        var aggregator = AggregatorConfigLoader(environment: [:])
        let failed = [
            loaders[0].loadAgent(path: path) == nil, loaders[1].loadBudgets(path: path) == nil,
            loaders[2].loadProfiles(path: path) == nil, aggregator.load(path: path) == nil,
        ]
        #expect(failed == [true, true, true, true])
        for diagnostics in loaders.map(\.diagnostics) + [aggregator.diagnostics] {
            #expect(
                diagnostics.map { "\($0.line):\($0.column) \($0.message.prefix(27))" } == [
                    "1:1 the file is empty; expected"
                ], "\(diagnostics)")
        }
        var checks = ConfigLoader(environment: [:])
        #expect(checks.loadChecks(path: path, text: text)?.isEmpty == true && checks.diagnostics.isEmpty)
    }

    /// A diagnostic quotes the line it points at whatever the line breaks: CRLF (edited on
    /// Windows) and a lone CR. Both used to quote the wrong line or none (found by `make fuzz`).
    @Test(arguments: ["\r\n", "\r"])
    func diagnosticsQuoteTheirLineWhateverTheLineBreaks(_ lineBreak: String) {
        let text = [
            "checks:", "  - name: login", "    clas: authentication", "    http: {url: \"https://a.example/\"}",
        ]
        .joined(separator: lineBreak)
        var loader = ConfigLoader(environment: [:])
        #expect(loader.loadChecks(path: "crlf.yaml", text: text) == nil)
        let unknown = loader.diagnostics.first { $0.message.contains("'clas'") }
        #expect(unknown?.line == 3 && unknown?.sourceLine == "    clas: authentication", "\(loader.diagnostics)")
    }

    @Test func aDurationLongerThanACenturyIsAnErrorAtItsValue() {
        let text =
            "checks:\n  - name: login\n    class: authentication\n    interval: 1e98h\n    http: {url: \"https://a.example/\"}"
        var loader = ConfigLoader(environment: [:])
        #expect(loader.loadChecks(path: "long.yaml", text: text) == nil)
        #expect(
            loader.diagnostics.map { "\($0.line):\($0.column) \($0.message)" } == [
                "4:15 'interval': invalid duration '1e98h': longer than 100 years"
            ], "\(loader.diagnostics)")
    }
}

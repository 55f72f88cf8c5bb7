import Foundation
import SondaCore
import Yams

/// Loads and validates Sonda's YAML files: agent files (with their included check files),
/// check files and budget files. All problems are collected, each with file:line:col.
public struct ConfigLoader {
    public let sink = DiagnosticSink()
    private var interpolation: Interpolation
    private var checks: CheckLoader
    /// Every file read since the load began, in order.
    private var sourceFiles: [SourceFile] = []

    static let agentKeys =
        [
            "agent", "aggregator", "spool", "batch", "profiles", "profile_definitions", "include", "checks", "budgets",
            "ca_file",
        ] + ConnectionReader.agentKeys

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        interpolation = Interpolation(environment: environment)
        checks = CheckLoader(interpolation: interpolation)
    }

    public var diagnostics: [Diagnostic] { sink.sorted }

    /// Every diagnostic as the compiler-style text users see, one after another.
    public var diagnosticsText: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// What a file holds, judged by its top-level keys.
    public enum Kind: String, Sendable { case agent, checks, budgets }

    public static func kind(ofText text: String) -> Kind? {
        guard let root = try? Yams.compose(yaml: text), case .mapping(let mapping) = root else { return nil }
        let keys = Set(mapping.keys.compactMap { $0.scalar?.string })
        if keys.contains("agent") { return .agent }
        if keys.contains("budgets") && !keys.contains("checks") { return .budgets }
        if keys.contains("checks") { return .checks }
        return nil
    }

    /// Loads an agent file; nil when it has errors (see `diagnostics`).
    public mutating func loadAgent(path: String) -> AgentConfig? {
        checks.definedAt = [:]
        sourceFiles = []
        guard let file = open(path) else { return nil }
        guard let root = file.root(holding: "an agent file (`agent:`, `aggregator:`, `checks:`)"),
            let r = MappingReader(root, in: file, context: "an agent file", allowed: Self.agentKeys)
        else { return nil }
        var id = ""
        var region = ""
        var site: String?
        if let agent = r.mapping("agent", allowed: ["id", "region", "site"], required: true) {
            id = agent.string("id", required: true) ?? ""
            region = agent.string("region", required: true) ?? ""
            site = agent.string("site")
        }
        var aggregatorURLs: [String] = []
        var keyFile: String?
        if let aggregator = r.mapping("aggregator", allowed: ["url", "urls", "key"]) {
            aggregatorURLs = AggregatorURLReader.urls(in: aggregator, interpolation: &interpolation, file: file)
            if let (raw, node) = aggregator.scalar("key") {
                keyFile = relative(interpolation.resolve(raw, at: node, in: file, secret: false), to: path)
            }
        }
        let spool = r.string("spool").map { relative($0, to: path) }
        var batchLimits = BatchLimits()
        if let batch = r.mapping("batch", allowed: ["max_results", "max_age"]) {
            batchLimits.maxResults = batch.int("max_results", in: 1...10_000) ?? batchLimits.maxResults
            batchLimits.maxAge = batch.duration("max_age") ?? batchLimits.maxAge
        }
        // Profiles a profiles file defines (probes/profiles.yaml's format) join the built-in ones.
        var known = NetworkProfile.builtIn
        if let (definitions, node) = r.scalar("profile_definitions") {
            let full = relative(definitions, to: path)
            if FileManager.default.isReadableFile(atPath: full) {
                let defined = loadProfiles(path: full) ?? []
                known = defined + known.filter { builtIn in !defined.contains { $0.name == builtIn.name } }
            } else {
                file.error("cannot read profile_definitions file '\(definitions)'", at: node)
            }
        }
        var profiles: [NetworkProfile] = []
        for (name, node) in r.strings("profiles") ?? [("none", root)] {
            if let profile = known.first(where: { $0.name == name }) {
                profiles.append(profile)
            } else {
                let names = known.map(\.name)
                file.error("unknown profile '\(name)'\(Suggestion.didYouMean(name, in: names))", at: node)
            }
        }
        var visiting: [String] = [canonical(path)]
        var loaded = checks.load(inline: r, in: file)
        for (pattern, node) in r.strings("include") ?? [] {
            loaded += include(pattern, from: path, at: node, in: file, visiting: &visiting)
        }
        // A private CA for every check that names no trust store of its own.
        if let (caPath, node) = r.scalar("ca_file") {
            let full = relative(caPath, to: path)
            if FileManager.default.isReadableFile(atPath: full) {
                for index in loaded.indices where loaded[index].caFile == nil { loaded[index].caFile = full }
            } else {
                file.error("cannot read ca_file '\(caPath)'", at: node)
            }
        }
        // The agent's proxy for every check that names none of its own (`proxy: none` is one).
        if let route = ConnectionReader.proxyRoute(r, interpolation: &interpolation, file: file) {
            for index in loaded.indices where loaded[index].connection.proxy == nil {
                loaded[index].connection.proxy = route
            }
        }
        var budgets: [BudgetRule] = []
        if let (budgetPath, node) = r.scalar("budgets") {
            let full = relative(budgetPath, to: path)
            if FileManager.default.isReadableFile(atPath: full) {
                budgets = loadBudgets(path: full) ?? []
            } else {
                file.error("cannot read budgets file '\(budgetPath)'", at: node)
            }
        }
        guard !sink.hasErrors else { return nil }
        return AgentConfig(
            file: path, id: id, region: region, site: site, aggregatorURLs: aggregatorURLs, keyFile: keyFile,
            spool: spool, batch: batchLimits, profiles: profiles, checks: loaded, budgets: budgets, redactor: redactor,
            sourceFiles: sourceFiles)
    }

    /// Loads a file of checks on its own; `text` stands in for the file's contents when given.
    public mutating func loadChecks(path: String, text: String? = nil) -> [CheckSpec]? {
        checks.definedAt = [:]
        var visiting = [canonical(path)]
        guard let file = text.map({ ConfigFile(path: path, text: $0, sink: sink) }) ?? open(path) else { return nil }
        let loaded = checks.load(file) + includes(of: file, visiting: &visiting)
        return sink.hasErrors ? nil : loaded
    }

    public mutating func loadBudgets(path: String) -> [BudgetRule]? {
        guard let file = open(path), let root = file.root(holding: "a budgets file (`budgets:`)") else { return nil }
        guard let r = MappingReader(root, in: file, context: "a budgets file", allowed: ["budgets"]),
            let items = r.sequence("budgets", required: true)
        else { return nil }
        let rules = items.compactMap { BudgetRuleReader.rule($0, in: file) }
        return sink.hasErrors ? nil : rules
    }

    /// Secrets resolved so far, for redacting output.
    public var redactor: SecretRedactor { checks.interpolation.redactor.merged(with: interpolation.redactor) }

    // MARK: files and includes

    mutating func open(_ path: String) -> ConfigFile? {
        guard let data = FileManager.default.contents(atPath: path) else {
            sink.report(Diagnostic.unreadable(path))
            return nil
        }
        sourceFiles.append(SourceFile(path: path, bytes: Array(data)))
        guard let text = String(data: data, encoding: .utf8) else {
            sink.report(Diagnostic(file: path, line: 1, column: 1, message: "file is not UTF-8 text"))
            return nil
        }
        return ConfigFile(path: path, text: text, sink: sink)
    }

    private mutating func include(
        _ pattern: String, from path: String, at node: Node, in file: ConfigFile, visiting: inout [String]
    ) -> [CheckSpec] {
        let matches = Glob.expand(relative(pattern, to: path))
        if matches.isEmpty {
            file.error("include '\(pattern)' matches no file", at: node)
            return []
        }
        var loaded: [CheckSpec] = []
        for match in matches {
            let key = canonical(match)
            if visiting.contains(key) {
                let base = (visiting[0] as NSString).deletingLastPathComponent + "/"
                let chain = (visiting + [key]).map { $0.hasPrefix(base) ? String($0.dropFirst(base.count)) : $0 }
                file.error("include cycle: \(chain.joined(separator: " -> "))", at: node)
                continue
            }
            guard let included = open(match) else { continue }
            visiting.append(key)
            loaded += checks.load(included) + includes(of: included, visiting: &visiting)
            visiting.removeLast()
        }
        return loaded
    }

    /// A check file may include further check files.
    private mutating func includes(of file: ConfigFile, visiting: inout [String]) -> [CheckSpec] {
        guard case .mapping(let mapping)? = file.root else { return [] }
        guard let value = mapping.first(where: { $0.key.scalar?.string == "include" })?.value else { return [] }
        let patterns: [Node] = value.sequence.map(Array.init) ?? [value]
        return patterns.flatMap { node -> [CheckSpec] in
            guard let pattern = node.scalar?.string else { return [] }
            return include(pattern, from: file.path, at: node, in: file, visiting: &visiting)
        }
    }

    /// `path` as written in `file`, made relative to the working directory like `file` is, with
    /// `..` folded so diagnostics name files the way a user would.
    private func relative(_ path: String, to file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        let joined = directory.isEmpty ? path : "\(directory)/\(path)"
        var parts: [Substring] = []
        for part in joined.split(separator: "/", omittingEmptySubsequences: false) {
            if part == ".." && !parts.isEmpty && parts.last != ".." && parts.last != "" {
                parts.removeLast()
            } else if part != "." {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    private func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}

extension SecretRedactor {
    func merged(with other: SecretRedactor) -> SecretRedactor {
        var merged = self
        other.secrets.forEach { merged.add($0) }
        return merged
    }
}

/// Shell-style wildcards in include paths, sorted for a stable order.
enum Glob {
    static func expand(_ pattern: String) -> [String] {
        guard pattern.contains(where: { "*?[".contains($0) }) else {
            return FileManager.default.fileExists(atPath: pattern) ? [pattern] : []
        }
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}

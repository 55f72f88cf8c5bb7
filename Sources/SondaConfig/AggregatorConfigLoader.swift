import Foundation
import SondaCore
import Yams

/// Loads aggregator.yaml with the same compiler-style diagnostics as the agent's files.
public struct AggregatorConfigLoader {
    public let sink = DiagnosticSink()
    private var interpolation: Interpolation

    static let keys = [
        "listen", "database", "agents", "budgets", "slo", "read_tokens", "admin_tokens", "retention", "limits",
        "alerting", "tls", "audit",
    ]
    /// The shortest admin token taken: one that changes silences must not be guessable.
    public static let shortestAdminToken = 16

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        interpolation = Interpolation(environment: environment)
    }

    public var diagnostics: [Diagnostic] { sink.sorted }

    /// The configuration, or nil when the file has errors (see `diagnostics`).
    public mutating func load(path: String) -> AggregatorConfig? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            sink.report(Diagnostic.unreadable(path))
            return nil
        }
        let file = ConfigFile(path: path, text: text, sink: sink)
        guard let root = file.root(holding: "an aggregator file (`listen:`, `database:`, `agents:`)"),
            let r = MappingReader(root, in: file, context: "an aggregator file", allowed: Self.keys)
        else { return nil }
        var config = AggregatorConfig(file: path)
        if let (listen, node) = r.scalar("listen") {
            let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, let port = Int(parts[1]), (0...65_535).contains(port), !parts[0].isEmpty {
                config.host = String(parts[0])
                config.port = port
            } else {
                file.error("'listen' must be HOST:PORT (e.g. 127.0.0.1:9470), got '\(listen)'", at: node)
            }
        }
        if let (database, node) = r.scalar("database") {
            if PostgresURL.isURL(database) {
                // A URL's password (from ${env:} or ${file:}) is a secret; the rest is not. Values
                // go in percent-encoded, so a password with '@', '/' or '%' stays one password.
                let url = interpolation.resolve(database, at: node, in: file, encoding: PostgresURL.encodeComponent)
                do {
                    config.database = try PostgresURL(url).text
                } catch {
                    file.error("'database': \(error)", at: node)
                }
            } else {
                config.database = Self.relative(
                    interpolation.resolve(database, at: node, in: file, secret: false), to: path)
            }
        }
        config.agents = agents(r, in: file)
        config.budgets = budgets(r, in: file, path: path)
        if let slo = r.mapping("slo", allowed: ["availability", "window"]) {
            if let (text, node) = slo.scalar("availability") {
                let number = Double(text.hasSuffix("%") ? String(text.dropLast()) : text)
                if let number, number > 0, number < 100 {
                    config.slo.availability = number / 100
                } else {
                    file.error("'availability' must be a percentage below 100, like 99.9%, got '\(text)'", at: node)
                }
            }
            config.slo.window = slo.duration("window") ?? config.slo.window
        }
        for (token, node) in r.strings("read_tokens") ?? [] {
            let value = interpolation.resolve(token, at: node, in: file)
            if !value.isEmpty { config.readTokens.append(value) }
        }
        config.adminTokens = adminTokens(r, readTokens: config.readTokens, in: file)
        if let retention = r.mapping("retention", allowed: ["raw", "rollups"]) {
            config.rawRetention = retention.duration("raw") ?? config.rawRetention
            config.rollupRetention = retention.duration("rollups") ?? config.rollupRetention
        }
        if let limits = r.mapping(
            "limits",
            allowed: [
                "max_body_bytes", "max_results", "signature_window", "request_timeout", "response_timeout",
                "max_connections",
            ])
        {
            config.maxBodyBytes = limits.int("max_body_bytes", in: 1024...(256 << 20)) ?? config.maxBodyBytes
            config.maxResultsPerBatch = limits.int("max_results", in: 1...100_000) ?? config.maxResultsPerBatch
            config.signatureWindow = limits.duration("signature_window") ?? config.signatureWindow
            config.requestTimeout = Self.timeout("request_timeout", in: limits, file) ?? config.requestTimeout
            config.responseTimeout = Self.timeout("response_timeout", in: limits, file) ?? config.responseTimeout
            config.maxConnections = limits.int("max_connections", in: 1...1_000_000) ?? config.maxConnections
        }
        if let alerting = r.value("alerting") {
            var reader = AlertingConfigReader(file: file, interpolation: interpolation)
            config.alerting = reader.read(alerting)
            interpolation = reader.interpolation
        }
        if let tls = r.mapping("tls", allowed: ["cert", "key"]) {
            let cert = readablePath(tls, "cert", in: file, configPath: path)
            let key = readablePath(tls, "key", in: file, configPath: path)
            if let cert, let key { config.tls = .init(certificateChain: cert, privateKey: key) }
        }
        if let audit = r.mapping("audit", allowed: AuditConfigReader.keys) {
            config.audit = AuditConfigReader.read(audit, in: file, configPath: path, interpolation: &interpolation)
        }
        return sink.hasErrors ? nil : config
    }

    /// A server timeout: one under 100 ms would close connections before their request arrived.
    private static func timeout(_ key: String, in limits: MappingReader, _ file: ConfigFile) -> Duration? {
        guard let given = limits.duration(key) else { return nil }
        guard given >= .milliseconds(100) else {
            file.error("'\(key)' must be at least 100ms", at: limits.value(key))
            return nil
        }
        return given
    }

    /// A required file path, relative to the config file, that must be readable now.
    private func readablePath(_ r: MappingReader, _ key: String, in file: ConfigFile, configPath: String) -> String? {
        guard let (value, node) = r.scalar(key, required: true) else { return nil }
        let full = Self.relative(value, to: configPath)
        guard FileManager.default.isReadableFile(atPath: full) else {
            file.error("cannot read \(key) file '\(value)'", at: node)
            return nil
        }
        return full
    }

    private mutating func agents(_ r: MappingReader, in file: ConfigFile) -> [AggregatorConfig.Agent] {
        var agents: [AggregatorConfig.Agent] = []
        var ids: Set<String> = []
        for node in r.sequence("agents") ?? [] {
            guard
                let a = MappingReader(
                    node, in: file, context: "an agent", allowed: ["id", "region", "site", "public_key"])
            else { continue }
            let id = a.string("id", required: true)
            let region = a.string("region", required: true)
            var key: Data?
            if let (text, keyNode) = a.scalar("public_key", required: true) {
                let resolved = interpolation.resolve(text, at: keyNode, in: file, secret: false)
                key = resolved.hasPrefix("ed25519:") ? Data(base64Encoded: String(resolved.dropFirst(8))) : nil
                if key?.count != 32 {
                    key = nil
                    file.error(
                        "'public_key' must be ed25519:BASE64 of 32 bytes (sonda-agent keygen prints it), got '\(text)'",
                        at: keyNode)
                }
            }
            if let id, !ids.insert(id).inserted {
                file.error("agent '\(id)' is listed twice", at: node)
            }
            if let id, let region, let key {
                agents.append(.init(id: id, region: region, site: a.string("site"), publicKey: key))
            }
        }
        return agents
    }

    /// `admin_tokens`: like `read_tokens` (an entry that resolves to nothing is left out), but each
    /// must be long enough not to be guessed and must not also be a read token.
    private mutating func adminTokens(_ r: MappingReader, readTokens: [String], in file: ConfigFile) -> [String] {
        var tokens: [String] = []
        for (token, node) in r.strings("admin_tokens") ?? [] {
            let value = interpolation.resolve(token, at: node, in: file)
            if value.isEmpty { continue }
            if value.count < Self.shortestAdminToken {
                file.error(
                    "an admin token must be at least \(Self.shortestAdminToken) characters (openssl rand -hex 16 makes one)",
                    at: node)
            } else if readTokens.contains(value) {
                file.error(
                    "this admin token is also a read token; an admin token can read too, so list it once", at: node)
            } else {
                tokens.append(value)
            }
        }
        return tokens
    }

    private func budgets(_ r: MappingReader, in file: ConfigFile, path: String) -> [BudgetRule] {
        guard let node = r.value("budgets") else { return [] }
        if case .sequence(let items) = node {
            return items.compactMap { BudgetRuleReader.rule($0, in: file) }
        }
        guard let (budgetPath, pathNode) = r.scalar("budgets", what: "a file path or a list of rules") else {
            return []
        }
        let full = Self.relative(budgetPath, to: path)
        guard FileManager.default.isReadableFile(atPath: full) else {
            file.error("cannot read budgets file '\(budgetPath)'", at: pathNode)
            return []
        }
        var loader = ConfigLoader(environment: interpolation.environment)
        let rules = loader.loadBudgets(path: full)
        loader.diagnostics.forEach(sink.report)
        return rules ?? []
    }

    static func relative(_ path: String, to file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : "\(directory)/\(path)"
    }
}

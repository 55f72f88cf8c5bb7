import Foundation
import SondaCore
import Yams

/// Reads `checks:` files into `CheckSpec`s, reporting every problem with its position.
struct CheckLoader {
    static let classes = ["authentication", "patient_data", "appointment_booking", "treatment_planning", "reporting"]
    static let checkKeys =
        [
            "name", "class", "interval", "timeout", "retries", "http", "tls_handshake", "steps", "tcp", "expect", "tls",
            "budgets", "labels",
        ] + ConnectionReader.checkKeys
    static let httpKeys = ["url", "method", "headers", "body"]
    static let stepKeys = ["name", "http", "expect", "extract"]
    static let expectKeys = ["status", "headers", "body", "json", "max", "http_version"]
    static let tlsKeys =
        ["min_version", "expiry_warning", "expiry_critical", "ca_file", "spki_sha256"] + clientCertificateKeys
    static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    var interpolation: Interpolation
    /// Where each check was defined, to report duplicates across files.
    var definedAt: [String: (file: String, line: Int)] = [:]

    mutating func load(_ file: ConfigFile) -> [CheckSpec] {
        guard let root = file.root else { return [] }
        guard let top = MappingReader(root, in: file, context: "a checks file", allowed: ["checks", "include"]) else {
            return []
        }
        guard let items = top.sequence("checks", required: !top.has("include")) else { return [] }
        return items.compactMap { check($0, in: file) }
    }

    /// Checks written in an agent file itself.
    mutating func load(inline agent: MappingReader, in file: ConfigFile) -> [CheckSpec] {
        (agent.sequence("checks") ?? []).compactMap { check($0, in: file) }
    }

    private mutating func check(_ node: Node, in file: ConfigFile) -> CheckSpec? {
        guard let r = MappingReader(node, in: file, context: "a check", allowed: Self.checkKeys) else { return nil }
        let name = r.string("name", required: true)
        if let name, let (_, nameNode) = r.scalar("name") {
            if let first = definedAt[name] {
                file.error(
                    "duplicate check name '\(name)' (first defined at \(first.file):\(first.line))", at: nameNode)
            } else {
                definedAt[name] = (file.path, nameNode.mark?.line ?? 0)
            }
        }
        var endpointClass = "custom"
        if let (text, classNode) = r.scalar("class", required: true) {
            if !Self.classes.contains(text) && !text.hasPrefix("custom") {
                file.error(
                    "unknown class '\(text)'\(Suggestion.didYouMean(text, in: Self.classes)); expected one of \(Self.classes.joined(separator: ", ")) or custom:NAME",
                    at: classNode)
            }
            endpointClass = text
        }
        let interval = r.duration("interval") ?? .seconds(30)
        let timeout = r.duration("timeout") ?? .seconds(10)
        if let (_, node) = r.scalar("timeout"), timeout > interval {
            file.error(
                "timeout \(DurationParsing.format(timeout)) is longer than the interval \(DurationParsing.format(interval))",
                at: node)
        }
        let retries = r.int("retries", in: 0...10) ?? 0
        let tls = r.mapping("tls", allowed: Self.tlsKeys)
        let (policy, caFile) = tlsPolicy(tls, in: file)
        var clientCertificate: ClientCertificate?
        if let tls { clientCertificate = self.clientCertificate(tls, in: file) }
        let connection = ConnectionReader.options(r, interpolation: &interpolation, file: file)

        let targets = ["http", "tls_handshake", "steps", "tcp"].filter(r.has)
        if targets.count != 1 {
            file.error(
                targets.isEmpty
                    ? "a check needs one of 'http' (a request), 'steps' (a flow), 'tls_handshake' (host:port) or 'tcp' (a TCP service)"
                    : "a check has one of 'http', 'steps', 'tls_handshake' or 'tcp', not \(targets.joined(separator: " and "))",
                at: targets.isEmpty ? node : r.keyNode(targets[1]))
            return nil
        }
        var target: CheckTarget?
        switch targets[0] {
        case "http":
            let expect = self.expectations(r.mapping("expect", allowed: Self.expectKeys), in: file)
            if let step = httpStep(
                name: name ?? "", r.value("http")!, expect: expect, extract: [], tlsPolicy: r.has("tls"), in: file)
            {
                target = .http(step)
            }
        case "steps":
            if r.has("expect") { file.error("'expect' belongs to each step of a flow", at: r.keyNode("expect")) }
            target = flow(r.sequence("steps") ?? [], tlsPolicy: r.has("tls"), in: file)
        case "tcp":
            target = tcpTarget(r, in: file)
        default:
            if let (text, node) = r.scalar("tls_handshake", what: "host:port") {
                let parts = text.split(separator: ":")
                if parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) {
                    target = .tls(host: String(parts[0]), port: port)
                } else {
                    file.error("tls_handshake must be host:port, got '\(text)'", at: node)
                }
            }
        }
        let budgets = (r.sequence("budgets") ?? []).compactMap { budget($0, in: file) }
        let labels = Dictionary(
            (r.pairs("labels") ?? []).compactMap { pair in pair.value.scalar.map { (pair.key, $0.string) } },
            uniquingKeysWith: { $1 })
        guard let name, let target else { return nil }
        return CheckSpec(
            name: name, endpointClass: endpointClass, interval: interval, timeout: timeout, retries: retries,
            target: target, tls: policy, caFile: caFile, connection: connection, clientCertificate: clientCertificate,
            budgets: budgets, labels: labels)
    }

    private mutating func flow(_ nodes: [Node], tlsPolicy: Bool, in file: ConfigFile) -> CheckTarget? {
        guard !nodes.isEmpty else { return nil }
        var defined: Set<String> = []
        var steps: [HTTPStep] = []
        var names: Set<String> = []
        for node in nodes {
            guard let r = MappingReader(node, in: file, context: "a step", allowed: Self.stepKeys) else { continue }
            let name = r.string("name", required: true) ?? ""
            if let (_, nameNode) = r.scalar("name"), !names.insert(name).inserted {
                file.error("duplicate step name '\(name)' in this flow", at: nameNode)
            }
            guard let http = r.value("http") else {
                r.missing("http")
                continue
            }
            checkVariables(in: http, defined: defined, in: file)
            let extract = extractions(r.pairs("extract"), in: file)
            let expect = expectations(r.mapping("expect", allowed: Self.expectKeys), in: file)
            if let step = httpStep(name: name, http, expect: expect, extract: extract, tlsPolicy: tlsPolicy, in: file) {
                steps.append(step)
            }
            defined.formUnion(extract.map(\.variable))
        }
        return .flow(steps)
    }

    /// Reports `${name}` uses that no earlier step extracts.
    private func checkVariables(in node: Node, defined: Set<String>, in file: ConfigFile) {
        switch node {
        case .scalar(let scalar):
            for name in Interpolation.variables(in: scalar.string) where !defined.contains(name) {
                let known = defined.sorted()
                file.error(
                    "variable '${\(name)}' is used before any earlier step extracts it"
                        + (known.isEmpty ? "" : Suggestion.didYouMean(name, in: known)), at: node)
            }
        case .mapping(let mapping): mapping.forEach { checkVariables(in: $0.value, defined: defined, in: file) }
        case .sequence(let sequence): sequence.forEach { checkVariables(in: $0, defined: defined, in: file) }
        case .alias: break
        }
    }

    private mutating func httpStep(
        name: String, _ node: Node, expect: [Assertion], extract: [Extraction], tlsPolicy: Bool, in file: ConfigFile
    ) -> HTTPStep? {
        if node.mapping == nil { checkVariables(in: node, defined: [], in: file) }
        guard let r = MappingReader(node, in: file, context: "'http'", allowed: Self.httpKeys) else { return nil }
        guard let (rawURL, urlNode) = r.scalar("url", required: true) else { return nil }
        // A query string can carry a credential (?api_key=…), and so can the userinfo, whose
        // password is a secret however it was written.
        let url = interpolation.resolve(rawURL, at: urlNode, in: file, secret: rawURL.contains("?"))
        interpolation.redactor.addPassword(of: url)
        let lowered = url.lowercased()
        if !lowered.hasPrefix("http://") && !lowered.hasPrefix("https://") && !lowered.hasPrefix("${") {
            file.error("url must start with http:// or https://, got '\(rawURL)'", at: urlNode)
        } else if lowered.hasPrefix("http://") && tlsPolicy {
            file.error("plain http:// URL under a TLS policy: use https:// or drop 'tls'", at: urlNode)
        } else if URLComponents(string: Self.placeholders(url))?.host?.isEmpty != false && !lowered.hasPrefix("${") {
            file.error("'\(rawURL)' is not a valid URL", at: urlNode)
        }
        var method = "GET"
        if let (text, methodNode) = r.scalar("method") {
            method = text.uppercased()
            if !Self.methods.contains(method) {
                file.error("unknown method '\(text)'\(Suggestion.didYouMean(method, in: Self.methods))", at: methodNode)
            }
        }
        let headers = (r.pairs("headers") ?? []).compactMap { pair -> HeaderTemplate? in
            guard let value = pair.value.scalar?.string else {
                file.error("header '\(pair.key)' must be a string", at: pair.value)
                return nil
            }
            return HeaderTemplate(name: pair.key, value: interpolation.resolve(value, at: pair.value, in: file))
        }
        let body = r.scalar("body").map { interpolation.resolve($0.0, at: $0.1, in: file) }
        return HTTPStep(
            name: name, method: method, url: url, headers: headers, body: body,
            expect: expect.isEmpty ? [.status([200...399])] : expect, extract: extract)
    }

    /// Turns `${name}` into a harmless token so a templated URL can still be checked for shape.
    static func placeholders(_ url: String) -> String {
        var text = url
        for name in Interpolation.references(in: url) { text = text.replacingOccurrences(of: "${\(name)}", with: "x") }
        return text
    }
}

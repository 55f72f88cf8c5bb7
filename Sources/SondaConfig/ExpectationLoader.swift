import Foundation
import SondaCore
import Yams

/// The `expect`, `extract`, `tls` and `budgets` parts of a check.
extension CheckLoader {
    static let matchKeys = ["exists", "equals", "contains", "matches"]
    static let jsonKeys = ["exists", "equals", "length"]
    static let extractKeys = ["json", "header", "regex"]

    func expectations(_ r: MappingReader?, in file: ConfigFile) -> [Assertion] {
        guard let r else { return [] }
        var assertions: [Assertion] = []
        if let status = r.value("status") {
            if let ranges = statusRanges(status, in: file) { assertions.append(.status(ranges)) }
        }
        for pair in r.pairs("headers") ?? [] {
            if let match = textMatch(pair.value, context: "header '\(pair.key)'", in: file) {
                assertions.append(.header(name: pair.key, match))
            }
        }
        if let body = r.value("body"), let match = textMatch(body, context: "'body'", in: file) {
            assertions.append(.body(match))
        }
        for pair in r.pairs("json") ?? [] {
            if let problem = JSONPath.validate(pair.key) {
                file.error("JSON path '\(pair.key)': \(problem)", at: pair.keyNode)
                continue
            }
            if let expectation = jsonExpectation(pair.value, path: pair.key, in: file) {
                assertions.append(.jsonPath(path: pair.key, expectation))
            }
        }
        if let (text, node) = r.scalar("http_version", what: "\"1.1\" or \"2\"") {
            switch ConnectionReader.httpVersion(text) {
            case .http1_1?: assertions.append(.httpVersion("1.1"))
            case .http2?: assertions.append(.httpVersion("2"))
            default: file.error("expect http_version must be \"1.1\" or \"2\", got '\(text)'", at: node)
            }
        }
        for pair in r.pairs("max") ?? [] {
            guard let phase = PhaseTimings.Phase(rawValue: pair.key) else {
                let phases = PhaseTimings.Phase.allCases.map(\.rawValue)
                file.error("unknown phase '\(pair.key)'\(Suggestion.didYouMean(pair.key, in: phases)); phases are \(phases.joined(separator: ", "))", at: pair.keyNode)
                continue
            }
            if let limit = duration(pair.value, context: "max \(pair.key)", in: file) {
                assertions.append(.maxDuration(phase: phase, limit: limit))
            }
        }
        return assertions
    }

    /// `200`, `[200, 204]`, `"2xx"` or `"200-299"`.
    private func statusRanges(_ node: Node, in file: ConfigFile) -> [ClosedRange<Int>]? {
        let items: [Node] = node.sequence.map(Array.init) ?? [node]
        var ranges: [ClosedRange<Int>] = []
        for item in items {
            let text = item.scalar?.string ?? ""
            if let code = Int(text), (100...599).contains(code) {
                ranges.append(code...code)
            } else if text.count == 3, text.hasSuffix("xx"), let hundred = Int(text.prefix(1)), (1...5).contains(hundred) {
                ranges.append((hundred * 100)...(hundred * 100 + 99))
            } else if let dash = text.firstIndex(of: "-"), let low = Int(text[..<dash]),
                let high = Int(text[text.index(after: dash)...]), 100 <= low, low <= high, high <= 599
            {
                ranges.append(low...high)
            } else {
                file.error("status must be a code like 200, a class like 2xx or a range like 200-299, got '\(text)'", at: item)
                return nil
            }
        }
        return ranges
    }

    /// A bare string means `equals`; otherwise one of exists / equals / contains / matches.
    private func textMatch(_ node: Node, context: String, in file: ConfigFile) -> TextMatch? {
        if let text = node.scalar?.string { return .equals(text) }
        guard let r = MappingReader(node, in: file, context: context, allowed: Self.matchKeys) else { return nil }
        guard r.keys.count == 1, let key = r.keys.first, let (text, valueNode) = r.scalar(key) else {
            file.error("\(context) takes exactly one of \(Self.matchKeys.joined(separator: ", "))", at: node)
            return nil
        }
        switch key {
        case "exists": return .exists
        case "equals": return .equals(text)
        case "contains": return .contains(text)
        default:
            if let problem = regexProblem(text) {
                file.error("invalid regular expression: \(problem)", at: valueNode)
                return nil
            }
            return .matches(text)
        }
    }

    private func jsonExpectation(_ node: Node, path: String, in file: ConfigFile) -> JSONExpectation? {
        if let text = node.scalar?.string { return .equals(text) }
        let context = "JSON path '\(path)'"
        guard let r = MappingReader(node, in: file, context: context, allowed: Self.jsonKeys) else { return nil }
        guard r.keys.count == 1, let key = r.keys.first else {
            file.error("\(context) takes exactly one of \(Self.jsonKeys.joined(separator: ", "))", at: node)
            return nil
        }
        switch key {
        case "exists": return .exists
        case "length": return r.int("length", in: 0...1_000_000).map(JSONExpectation.length)
        default: return r.string("equals").map(JSONExpectation.equals)
        }
    }

    func extractions(_ pairs: [(key: String, keyNode: Node, value: Node)]?, in file: ConfigFile) -> [Extraction] {
        (pairs ?? []).compactMap { pair -> Extraction? in
            guard pair.key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !pair.key.isEmpty else {
                file.error("variable names are letters, digits and _, got '\(pair.key)'", at: pair.keyNode)
                return nil
            }
            let context = "extract '\(pair.key)'"
            guard let r = MappingReader(pair.value, in: file, context: context, allowed: Self.extractKeys),
                r.keys.count == 1, let key = r.keys.first, let (text, valueNode) = r.scalar(key)
            else {
                if pair.value.mapping != nil {
                    file.error("\(context) takes exactly one of json, header, regex", at: pair.value)
                }
                return nil
            }
            switch key {
            case "json":
                if let problem = JSONPath.validate(text) {
                    file.error("JSON path '\(text)': \(problem)", at: valueNode)
                    return nil
                }
                return Extraction(variable: pair.key, source: .jsonPath(text))
            case "header": return Extraction(variable: pair.key, source: .header(text))
            default:
                if let problem = regexProblem(text) {
                    file.error("invalid regular expression: \(problem)", at: valueNode)
                    return nil
                }
                return Extraction(variable: pair.key, source: .regex(text))
            }
        }
    }

    func tlsPolicy(_ r: MappingReader?, in file: ConfigFile) -> (TLSPolicy, String?) {
        guard let r else { return (TLSPolicy(), nil) }
        var policy = TLSPolicy()
        if let (text, node) = r.scalar("min_version") {
            if let name = TLSPolicy.versionName(text) {
                policy.minVersion = name
            } else {
                file.error("min_version must be \"1.2\" or \"1.3\", got '\(text)'", at: node)
            }
        }
        if let warning = r.duration("expiry_warning") { policy.expiryWarning = warning }
        if let critical = r.duration("expiry_critical") { policy.expiryCritical = critical }
        if policy.expiryCritical > policy.expiryWarning, let node = r.value("expiry_critical") {
            file.error("expiry_critical must not be longer than expiry_warning", at: node)
        }
        let pins = (r.strings("spki_sha256") ?? []).compactMap { pin, node -> String? in
            let bare = pin.hasPrefix("sha256//") ? String(pin.dropFirst(8)) : pin
            guard let digest = Data(base64Encoded: bare), digest.count == 32 else {
                file.error("spki_sha256 must be the base64 SHA-256 of a public key (44 characters), got '\(pin)'", at: node)
                return nil
            }
            return bare
        }
        policy = TLSPolicy(
            minVersion: policy.minVersion, expiryWarning: policy.expiryWarning, expiryCritical: policy.expiryCritical,
            spkiSHA256Pins: pins)
        var caFile: String?
        if let (path, node) = r.scalar("ca_file") {
            let resolved = Self.path(path, relativeTo: file)
            if !FileManager.default.isReadableFile(atPath: resolved) {
                file.error("cannot read ca_file '\(path)'", at: node)
            }
            caFile = resolved
        }
        return (policy, caFile)
    }

    func budget(_ node: Node, in file: ConfigFile) -> LatencyBudget? {
        guard let r = MappingReader(node, in: file, context: "a budget", allowed: ["phase", "quantile", "limit"]) else {
            return nil
        }
        var phase = PhaseTimings.Phase.total
        if let (text, phaseNode) = r.scalar("phase") {
            guard let known = PhaseTimings.Phase(rawValue: text) else {
                file.error("unknown phase '\(text)'\(Suggestion.didYouMean(text, in: PhaseTimings.Phase.allCases.map(\.rawValue)))", at: phaseNode)
                return nil
            }
            phase = known
        }
        if let (text, quantileNode) = r.scalar("quantile"), !["p50", "p95", "p99"].contains(text) {
            file.error("quantile must be p50, p95 or p99, got '\(text)'", at: quantileNode)
        }
        guard let limit = r.duration("limit", required: true) else { return nil }
        return LatencyBudget(limit: limit, phase: phase)
    }

    func duration(_ node: Node, context: String, in file: ConfigFile) -> Duration? {
        guard let text = node.scalar?.string else {
            file.error("\(context) must be a duration like 300ms", at: node)
            return nil
        }
        do { return try DurationParsing.parse(text) } catch {
            file.error("\(context): \(error)", at: node)
            return nil
        }
    }

    func regexProblem(_ pattern: String) -> String? {
        do {
            _ = try Regex(pattern)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

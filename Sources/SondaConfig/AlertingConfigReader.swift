import Foundation
import SondaCore
import Yams

/// Reads the `alerting:` section of aggregator.yaml into `AlertingConfig`, reporting every
/// problem (unknown keys, bad thresholds, receivers and routes that do not fit together) with
/// its file:line:col.
struct AlertingConfigReader {
    static let keys = [
        "evaluate_every", "down", "agent_silent", "budget", "cert_expiry", "renotify", "external_url", "receivers",
        "routes", "delivery_expiry",
    ]
    static let receiverKinds = ["alertmanager", "webhook", "slack"]

    let file: ConfigFile
    var interpolation: Interpolation
    /// Every receiver name written, even of a receiver with errors, so routes to it are not reported too.
    private var declared: [String] = []

    init(file: ConfigFile, interpolation: Interpolation) {
        self.file = file
        self.interpolation = interpolation
    }

    mutating func read(_ node: Node) -> AlertingConfig {
        var config = AlertingConfig()
        guard let r = MappingReader(node, in: file, context: "'alerting'", allowed: Self.keys) else { return config }
        if let every = positive(r, "evaluate_every") { config.evaluateEvery = every }
        if let expiry = positive(r, "delivery_expiry") { config.deliveryExpiry = expiry }
        if let down = r.mapping("down", allowed: ["quorum", "for"]) {
            config.downQuorum = down.int("quorum", in: 1...1000) ?? config.downQuorum
            config.downFor = down.int("for", in: 1...100) ?? config.downFor
        }
        if let silent = r.mapping("agent_silent", allowed: ["after", "heartbeat"]) {
            config.silentAfter = silent.int("after", in: 1...1000) ?? config.silentAfter
            config.heartbeatInterval = positive(silent, "heartbeat") ?? config.heartbeatInterval
        }
        if let budget = r.mapping("budget", allowed: ["window", "min_samples"]) {
            config.budgetWindow = positive(budget, "window") ?? config.budgetWindow
            config.budgetMinSamples = budget.int("min_samples", in: 1...1_000_000) ?? config.budgetMinSamples
        }
        if let cert = r.mapping("cert_expiry", allowed: ["warning", "critical"]) {
            config.certWarning = positive(cert, "warning") ?? config.certWarning
            config.certCritical = positive(cert, "critical") ?? config.certCritical
            if config.certCritical >= config.certWarning {
                file.error(
                    "cert_expiry 'critical' (\(DurationParsing.format(config.certCritical))) must be shorter than "
                        + "'warning' (\(DurationParsing.format(config.certWarning)))",
                    at: cert.value("critical") ?? cert.node)
            }
        }
        if let renotify = r.mapping("renotify", allowed: AlertingConfig.Severity.allCases.map(\.rawValue)) {
            for severity in AlertingConfig.Severity.allCases {
                if let every = positive(renotify, severity.rawValue) { config.renotify[severity] = every }
            }
        }
        if let (text, node) = r.scalar("external_url") {
            let url = interpolation.resolve(text, at: node, in: file, secret: false)
            if checkURL(url, written: text, key: "external_url", at: node) { config.externalURL = url }
        }
        config.receivers = receivers(r)
        config.routes = routes(r, receivers: declared)
        return config
    }

    /// A duration that must be more than zero.
    private func positive(_ r: MappingReader, _ key: String) -> Duration? {
        guard let value = r.duration(key) else { return nil }
        guard value > .zero else {
            file.error("'\(key)' must be longer than zero", at: r.value(key))
            return nil
        }
        return value
    }

    /// http(s) only; a value that came from `${env:…}` is not echoed (it may be a secret).
    private func checkURL(_ url: String, written: String, key: String, at node: Node) -> Bool {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), URL(string: url)?.host != nil else {
            let shown = url == written ? ", got '\(written)'" : " (from \(written))"
            file.error("'\(key)' must be an http:// or https:// URL\(shown)", at: node)
            return false
        }
        return true
    }

    private mutating func receivers(_ r: MappingReader) -> [AlertingConfig.Receiver] {
        var receivers: [AlertingConfig.Receiver] = []
        var names: Set<String> = []
        for node in r.sequence("receivers") ?? [] {
            guard let rr = MappingReader(node, in: file, context: "a receiver", allowed: ["name"] + Self.receiverKinds)
            else { continue }
            let name = rr.string("name", required: true)
            if let name { declared.append(name) }
            if let name, !names.insert(name).inserted {
                file.error("receiver '\(name)' is defined twice", at: rr.value("name"))
            }
            let kinds = Self.receiverKinds.filter(rr.has)
            guard kinds.count == 1, let kindName = kinds.first else {
                let message =
                    kinds.isEmpty
                    ? "a receiver needs one of alertmanager, webhook or slack"
                    : "a receiver has one kind, this one has \(kinds.joined(separator: " and "))"
                file.error(message, at: kinds.count > 1 ? rr.keyNode(kinds[1]) : node)
                continue
            }
            if let kind = kind(kindName, rr), let name { receivers.append(.init(name: name, kind: kind)) }
        }
        return receivers
    }

    private mutating func kind(_ name: String, _ rr: MappingReader) -> AlertingConfig.Receiver.Kind? {
        let allowed = name == "webhook" ? ["url", "secret"] : ["url"]
        guard let k = rr.mapping(name, allowed: allowed), let (text, node) = k.scalar("url", required: true) else {
            return nil
        }
        // A Slack incoming-webhook URL is the credential itself.
        let url = interpolation.resolve(text, at: node, in: file, secret: name == "slack")
        guard checkURL(url, written: text, key: "url", at: node) else { return nil }
        switch name {
        case "alertmanager": return .alertmanager(url: url)
        case "slack": return .slack(url: url)
        default:
            let secret = k.scalar("secret").map { interpolation.resolve($0.0, at: $0.1, in: file, secret: true) }
            return .webhook(url: url, secret: secret)
        }
    }

    private func routes(_ r: MappingReader, receivers: [String]) -> [AlertingConfig.Route] {
        var routes: [AlertingConfig.Route] = []
        for node in r.sequence("routes") ?? [] {
            guard
                let rr = MappingReader(node, in: file, context: "a route", allowed: ["severity", "match", "receiver"])
            else { continue }
            var severities: Set<AlertingConfig.Severity>?
            if let written = rr.strings("severity") {
                severities = []
                for (text, valueNode) in written {
                    if let severity = AlertingConfig.Severity(rawValue: text) {
                        severities?.insert(severity)
                    } else {
                        let known = AlertingConfig.Severity.allCases.map(\.rawValue)
                        file.error(
                            "unknown severity '\(text)'; one of \(known.joined(separator: ", "))"
                                + Suggestion.didYouMean(text, in: known), at: valueNode)
                    }
                }
            }
            var matchers: [String: String] = [:]
            for (label, _, value) in rr.pairs("match") ?? [] {
                guard let text = value.scalar?.string else {
                    file.error("the value of match '\(label)' must be a string", at: value)
                    continue
                }
                matchers[label] = text
            }
            guard let (receiver, receiverNode) = rr.scalar("receiver", required: true) else { continue }
            guard receivers.contains(receiver) else {
                file.error(
                    "route names unknown receiver '\(receiver)'\(Suggestion.didYouMean(receiver, in: receivers))",
                    at: receiverNode)
                continue
            }
            routes.append(.init(severities: severities, matchers: matchers, receiver: receiver))
        }
        return routes
    }
}

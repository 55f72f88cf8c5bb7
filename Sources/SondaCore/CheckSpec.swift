import Foundation

/// One configured check: what to probe, how often, and what must hold. Produced by SondaConfig
/// from the YAML files; run by SondaProbe (a single request, a handshake, or a flow of steps).
public struct CheckSpec: Sendable, Hashable {
    public var name: String
    /// authentication, patient_data, appointment_booking, treatment_planning, reporting, or custom.
    public var endpointClass: String
    public var interval: Duration
    public var timeout: Duration
    /// Re-probes of a failing check before it is reported failed.
    public var retries: Int
    public var target: CheckTarget
    public var tls: TLSPolicy
    public var caFile: String?
    /// Proxy, IP family, HTTP version and host overrides.
    public var connection: ConnectionOptions
    /// The certificate the check presents when a server asks for one (mutual TLS).
    public var clientCertificate: ClientCertificate?
    /// Budget overrides for this check (the most specific rule wins over budgets.yaml).
    public var budgets: [LatencyBudget]
    public var labels: [String: String]

    public init(
        name: String, endpointClass: String, interval: Duration = .seconds(30), timeout: Duration = .seconds(10),
        retries: Int = 0, target: CheckTarget, tls: TLSPolicy = TLSPolicy(), caFile: String? = nil,
        connection: ConnectionOptions = ConnectionOptions(), clientCertificate: ClientCertificate? = nil,
        budgets: [LatencyBudget] = [], labels: [String: String] = [:]
    ) {
        self.name = name
        self.endpointClass = endpointClass
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
        self.target = target
        self.tls = tls
        self.caFile = caFile
        self.connection = connection
        self.clientCertificate = clientCertificate
        self.budgets = budgets
        self.labels = labels
    }
}

public enum CheckTarget: Sendable, Hashable {
    /// One HTTP request.
    case http(HTTPStep)
    /// A TCP + TLS handshake only, for hosts that are not web APIs.
    case tls(host: String, port: Int)
    /// Steps run in order on one agent, sharing a cookie jar and variables.
    case flow([HTTPStep])
    /// A TCP connection (optionally TLS), optionally a line sent and the reply matched.
    case tcp(TCPTarget)
}

/// One HTTP request of a check or flow. `url`, header values and `body` may hold `${name}`
/// references to variables extracted by earlier steps.
public struct HTTPStep: Sendable, Hashable {
    public var name: String
    public var method: String
    public var url: String
    public var headers: [HeaderTemplate]
    public var body: String?
    public var expect: [Assertion]
    public var extract: [Extraction]

    public init(
        name: String, method: String = "GET", url: String, headers: [HeaderTemplate] = [], body: String? = nil,
        expect: [Assertion] = [.status([200...399])], extract: [Extraction] = []
    ) {
        self.name = name
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.expect = expect
        self.extract = extract
    }
}

public struct HeaderTemplate: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// What a response must show. A failed assertion fails the result with code `assertion`
/// (`http_status` for the status assertion) and names the actual value.
public enum Assertion: Sendable, Hashable {
    case status([ClosedRange<Int>])
    case header(name: String, TextMatch)
    case body(TextMatch)
    case jsonPath(path: String, JSONExpectation)
    /// A phase (or total) must not exceed the limit.
    case maxDuration(phase: PhaseTimings.Phase, limit: Duration)
    /// The HTTP version negotiated ("1.1", "2"), as the result's `http.version` reports it.
    case httpVersion(String)
}

public enum TextMatch: Sendable, Hashable {
    case exists
    case equals(String)
    case contains(String)
    /// A regular expression (Swift Regex syntax) that must match somewhere.
    case matches(String)
}

public enum JSONExpectation: Sendable, Hashable {
    case exists
    /// Equal to this JSON scalar written as text: `"ok"`, `42`, `true`, `null`.
    case equals(String)
    /// An array or object with this many elements, or a string of this many characters.
    case length(Int)
}

/// Takes a value from a response into a variable for later steps.
public struct Extraction: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// `$.data.token`, `$.slots[0].id`
        case jsonPath(String)
        case header(String)
        /// The first capture group of the regular expression over the body (the whole match without groups).
        case regex(String)
    }

    public var variable: String
    public var source: Source

    public init(variable: String, source: Source) {
        self.variable = variable
        self.source = source
    }
}

/// Replaces secret values (from `${env:…}`, `${file:…}` and extracted variables) in any text
/// that leaves the agent: messages, assertion values, HAR files.
public struct SecretRedactor: Sendable, Hashable {
    public private(set) var secrets: Set<String>
    public static let mask = "[redacted]"

    public init(_ secrets: Set<String> = []) {
        self.secrets = secrets.filter { $0.count >= 3 }
    }

    public mutating func add(_ secret: String) {
        if secret.count >= 3 { secrets.insert(secret) }
    }

    public func redact(_ text: String) -> String {
        var text = text
        // Longest first, so a secret that contains another is masked whole.
        for secret in secrets.sorted(by: { $0.count > $1.count }) where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: Self.mask)
        }
        return text
    }
}

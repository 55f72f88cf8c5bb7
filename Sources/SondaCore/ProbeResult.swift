import Foundation

/// The outcome of one probe (or one step of a flow): DESIGN.md's result object.
public struct ProbeResult: Codable, Hashable, Sendable {
    public var id: String
    public var check: String?
    public var step: String?
    public var agent: String?
    public var region: String?
    public var profile: String?
    public var endpointClass: String?
    public var startedAt: Date
    public var ok: Bool
    public var error: ProbeError?
    public var phases: PhaseTimings
    public var http: HTTPInfo?
    public var tls: TLSReport?
    public var assertions: [AssertionOutcome]
    public var budget: BudgetOutcome?
    /// The proxy the probe went through; nil (and absent from the JSON) when it went direct.
    public var proxy: ProxyInfo?
    /// The server's address when the result has no `http` object to carry it (a `tcp` or
    /// `tls://` check, or an HTTP probe that connected but got no response); nil (and absent from
    /// the JSON) otherwise, through a proxy, and when no connection was made.
    public var remoteIP: String?
    /// The failed attempts before this one when the check's `retries` re-probed it, oldest first;
    /// nil (and absent from the JSON) when the first attempt is the one reported.
    public var attempts: [FailedAttempt]?
    /// The URL probed. Not part of the wire object; kept for renderers and HAR.
    public var url: String = ""

    public init(
        id: String = UUIDv7.generate(), check: String? = nil, step: String? = nil, agent: String? = nil,
        region: String? = nil, profile: String? = nil, endpointClass: String? = nil, startedAt: Date,
        error: ProbeError?, phases: PhaseTimings, http: HTTPInfo? = nil, tls: TLSReport? = nil,
        assertions: [AssertionOutcome] = [], budget: BudgetOutcome? = nil, proxy: ProxyInfo? = nil,
        remoteIP: String? = nil, url: String = ""
    ) {
        self.id = id
        self.check = check
        self.step = step
        self.agent = agent
        self.region = region
        self.profile = profile
        self.endpointClass = endpointClass
        self.startedAt = startedAt
        self.ok = error == nil
        self.error = error
        self.phases = phases
        self.http = http
        self.tls = tls
        self.assertions = assertions
        self.budget = budget
        self.proxy = proxy
        self.remoteIP = http == nil ? remoteIP : nil
        self.url = url
    }

    enum CodingKeys: String, CodingKey {
        case id, check, step, agent, region, profile, ok, error, http, tls, assertions, budget, attempts, proxy
        case endpointClass = "class"
        case startedAt = "started_at"
        case phases = "phases_ms"
        case remoteIP = "remote_ip"
    }

    /// Reads DESIGN.md's result; a `budget` whose phase this version does not know (a newer
    /// agent's) reads as nil, as `BatchReader` reads it: the aggregator keeps it only in the stored JSON.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        check = try c.decodeIfPresent(String.self, forKey: .check)
        step = try c.decodeIfPresent(String.self, forKey: .step)
        agent = try c.decodeIfPresent(String.self, forKey: .agent)
        region = try c.decodeIfPresent(String.self, forKey: .region)
        profile = try c.decodeIfPresent(String.self, forKey: .profile)
        endpointClass = try c.decodeIfPresent(String.self, forKey: .endpointClass)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        ok = try c.decode(Bool.self, forKey: .ok)
        error = try c.decodeIfPresent(ProbeError.self, forKey: .error)
        phases = try c.decode(PhaseTimings.self, forKey: .phases)
        http = try c.decodeIfPresent(HTTPInfo.self, forKey: .http)
        tls = try c.decodeIfPresent(TLSReport.self, forKey: .tls)
        assertions = try c.decode([AssertionOutcome].self, forKey: .assertions)
        budget = try c.decodeIfPresent(BudgetOutcome.Read.self, forKey: .budget)?.outcome
        attempts = try c.decodeIfPresent([FailedAttempt].self, forKey: .attempts)
        remoteIP = try c.decodeIfPresent(String.self, forKey: .remoteIP)
    }

    /// Keys with no value are written as null so every object has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(check, forKey: .check)
        try c.encode(step, forKey: .step)
        try c.encode(agent, forKey: .agent)
        try c.encode(region, forKey: .region)
        try c.encode(profile, forKey: .profile)
        try c.encode(endpointClass, forKey: .endpointClass)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(ok, forKey: .ok)
        try c.encode(error, forKey: .error)
        try c.encode(phases, forKey: .phases)
        try c.encode(http, forKey: .http)
        try c.encode(tls, forKey: .tls)
        try c.encode(assertions, forKey: .assertions)
        try c.encode(budget, forKey: .budget)
        try c.encodeIfPresent(attempts, forKey: .attempts)
        try c.encodeIfPresent(proxy, forKey: .proxy)
        try c.encodeIfPresent(remoteIP, forKey: .remoteIP)
    }

    /// One failed attempt of a retried check, as the result that reports the check records it.
    public struct FailedAttempt: Codable, Hashable, Sendable {
        public var startedAt: Date
        public var error: ProbeError?
        public var totalMilliseconds: Double

        public init(_ result: ProbeResult) {
            startedAt = result.startedAt
            error = result.error
            totalMilliseconds = result.phases.total
        }

        enum CodingKeys: String, CodingKey {
            case error
            case startedAt = "started_at"
            case totalMilliseconds = "total_ms"
        }
    }

    /// Marks the result failed with `error` unless it already failed for an earlier reason.
    public mutating func fail(_ error: ProbeError) {
        guard self.error == nil else { return }
        self.error = error
        ok = false
    }
}

/// What the HTTP exchange returned. Bodies are never kept: only their size and, on request, a hash.
public struct HTTPInfo: Codable, Hashable, Sendable {
    public var status: Int
    public var version: String
    public var redirects: Int
    public var redirectMilliseconds: Double
    public var bodyBytes: Int
    public var bodySHA256: String?
    public var remoteIP: String?

    public init(
        status: Int, version: String, redirects: Int, redirectMilliseconds: Double, bodyBytes: Int,
        bodySHA256: String? = nil, remoteIP: String?
    ) {
        self.status = status
        self.version = version
        self.redirects = redirects
        self.redirectMilliseconds = redirectMilliseconds
        self.bodyBytes = bodyBytes
        self.bodySHA256 = bodySHA256
        self.remoteIP = remoteIP
    }

    enum CodingKeys: String, CodingKey {
        case status, version, redirects
        case redirectMilliseconds = "redirect_ms"
        case bodyBytes = "body_bytes"
        case bodySHA256 = "body_sha256"
        case remoteIP = "remote_ip"
    }
}

/// The proxy a probe went through: its URL without credentials, the address the agent connected
/// to, and the status it answered the CONNECT with (nil for SOCKS, or a proxy forwarding requests).
public struct ProxyInfo: Codable, Hashable, Sendable {
    public var url: String
    public var ip: String?
    public var connectStatus: Int?

    public init(url: String, ip: String?, connectStatus: Int? = nil) {
        self.url = url
        self.ip = ip
        self.connectStatus = connectStatus
    }

    enum CodingKeys: String, CodingKey {
        case url, ip
        case connectStatus = "connect_status"
    }
}

public struct AssertionOutcome: Codable, Hashable, Sendable {
    public var name: String
    public var ok: Bool
    /// What was seen when the assertion failed (secrets redacted).
    public var actual: String?

    public init(name: String, ok: Bool, actual: String? = nil) {
        self.name = name
        self.ok = ok
        self.actual = actual
    }
}

/// A result measured against its latency budget.
public struct BudgetOutcome: Codable, Hashable, Sendable {
    public var limitMilliseconds: Double
    public var phase: PhaseTimings.Phase
    public var ok: Bool

    public init(limitMilliseconds: Double, phase: PhaseTimings.Phase, ok: Bool) {
        self.limitMilliseconds = limitMilliseconds
        self.phase = phase
        self.ok = ok
    }

    enum CodingKeys: String, CodingKey {
        case phase, ok
        case limitMilliseconds = "limit_ms"
    }

    /// A budget as read from a result: nil for a phase this version does not know.
    struct Read: Decodable {
        var outcome: BudgetOutcome?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let limit = try c.decode(Double.self, forKey: .limitMilliseconds)
            let phase = try c.decode(String.self, forKey: .phase)
            let ok = try c.decode(Bool.self, forKey: .ok)
            outcome = PhaseTimings.Phase(rawValue: phase).map { .init(limitMilliseconds: limit, phase: $0, ok: ok) }
        }
    }
}

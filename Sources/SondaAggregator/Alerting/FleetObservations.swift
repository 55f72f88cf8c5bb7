import Foundation

/// What the engine remembers of the fleet between evaluations: per check × agent × profile the
/// run of consecutive failures and passes, per check × agent the latest TLS outcome and certificate
/// expiry, and when each agent was last heard from. Rebuilt after a restart by replaying the recent
/// results (see `AlertService`). What no rule can use any more is forgotten (`forgetStale`), so a
/// fleet whose checks, profiles or agents change keeps what is current, not all it ever saw.
struct FleetObservations: Sendable {
    struct SeriesKey: Hashable { var check: String, agent: String, profile: String }
    struct PairKey: Hashable { var check: String, agent: String }

    /// One check from one agent under one profile.
    struct Series {
        var region: String
        var lastAt: Date
        /// Time between the last two results: how often this series reports.
        var interval: TimeInterval?
        var failures = 0
        var passes = 0
        var lastError: String?
    }

    struct TLSState {
        var at: Date
        /// The policy error of the latest TLS-deciding result; nil once a result passed TLS.
        var policyError: String?
        var version: String?
        var profile: String
    }

    struct Expiry {
        var at: Date
        var expiry: Date
        /// The certificate's subject, for a client certificate.
        var subject = ""
    }

    struct Agent {
        var region: String
        var lastSeen: Date
    }

    var series: [SeriesKey: Series] = [:]
    var tls: [PairKey: TLSState] = [:]
    var expiries: [PairKey: Expiry] = [:]
    /// The client certificate (mutual TLS) each agent last presented for a check.
    var clientExpiries: [PairKey: Expiry] = [:]
    var agents: [String: Agent] = [:]
    var classes: [String: String] = [:]
    /// Checks each agent runs, to walk the series of one check quickly.
    var seriesByCheck: [String: Set<SeriesKey>] = [:]
    /// When `forgetStale` last looked.
    var lastForgotten = Date.distantPast

    /// Errors that mean TLS itself is out of policy.
    static let tlsPolicyErrors: Set<String> = [
        "tls_version", "tls_untrusted", "tls_hostname", "tls_pin", "tls_expired",
    ]
    /// Errors that happen only after a completed TLS handshake: such a result passed TLS.
    static let afterTLSErrors: Set<String> = [
        "http_status", "assertion", "redirects", "body_too_large", "tls_expiring", "tcp_expect",
    ]

    /// Takes one result; a result older than its series' latest (a late batch) does not move the
    /// series back in time. Results without a check name (ad hoc probes) are ignored.
    mutating func add(_ e: ResultEvent) {
        guard !e.check.isEmpty else { return }
        if classes[e.check] != e.endpointClass { classes[e.check] = e.endpointClass }
        if e.step == nil { count(e) }
        let pair = PairKey(check: e.check, agent: e.agent)
        if let code = e.errorCode, Self.tlsPolicyErrors.contains(code) {
            if e.startedAt >= tls[pair]?.at ?? .distantPast {
                tls[pair] = TLSState(at: e.startedAt, policyError: code, version: e.tlsVersion, profile: e.profile)
            }
        } else if e.ok || Self.afterTLSErrors.contains(e.errorCode ?? "") {
            if let state = tls[pair], e.startedAt >= state.at {
                tls[pair] = TLSState(at: e.startedAt, policyError: nil, version: e.tlsVersion, profile: e.profile)
            }
        }
        if let expiry = e.certificateExpiry, e.startedAt >= expiries[pair]?.at ?? .distantPast {
            expiries[pair] = Expiry(at: e.startedAt, expiry: expiry)
        }
        if let client = e.clientCertificate, e.startedAt >= clientExpiries[pair]?.at ?? .distantPast {
            clientExpiries[pair] = Expiry(at: e.startedAt, expiry: client.notAfter, subject: client.subject)
        }
        if agents[e.agent] == nil { agents[e.agent] = Agent(region: e.region, lastSeen: e.startedAt) }
    }

    private mutating func count(_ e: ResultEvent) {
        let key = SeriesKey(check: e.check, agent: e.agent, profile: e.profile)
        var s = series[key] ?? Series(region: e.region, lastAt: .distantPast)
        guard e.startedAt > s.lastAt else { return }
        if s.lastAt != .distantPast { s.interval = e.startedAt.timeIntervalSince(s.lastAt) }
        s.lastAt = e.startedAt
        s.region = e.region
        s.lastError = e.errorCode
        if e.ok {
            s.passes += 1
            s.failures = 0
        } else {
            s.failures += 1
            s.passes = 0
        }
        if series.updateValue(s, forKey: key) == nil { seriesByCheck[e.check, default: []].insert(key) }
    }

    mutating func add(_ h: HeartbeatEvent) {
        if let known = agents[h.agent], known.lastSeen >= h.at { return }
        agents[h.agent] = Agent(region: h.region, lastSeen: h.at)
    }

    /// TLS and certificate observations older than this are forgotten (the check was removed or
    /// renamed), so their alerts resolve instead of firing forever.
    static let forgetAfter: TimeInterval = 86_400

    func isCurrent(_ at: Date, now: Date) -> Bool { now.timeIntervalSince(at) <= Self.forgetAfter }

    /// Drops, at most once a minute, the series not seen for `forgetAfter` (or three of their
    /// intervals, if longer), the TLS and certificate observations no longer current, and the
    /// classes of checks with nothing left. No rule reads any of them: a stale series is out of
    /// the down count (`isFresh`), a stale TLS or expiry observation raises nothing. Agents stay:
    /// the configuration bounds them, and a silent one must keep its alert.
    mutating func forgetStale(now: Date) {
        guard now.timeIntervalSince(lastForgotten) >= 60 else { return }
        lastForgotten = now
        for (key, s) in series where now.timeIntervalSince(s.lastAt) > max(Self.forgetAfter, 3 * (s.interval ?? 0)) {
            series[key] = nil
            seriesByCheck[key.check]?.remove(key)
            if seriesByCheck[key.check]?.isEmpty == true { seriesByCheck[key.check] = nil }
        }
        tls = tls.filter { isCurrent($0.value.at, now: now) }
        expiries = expiries.filter { isCurrent($0.value.at, now: now) }
        clientExpiries = clientExpiries.filter { isCurrent($0.value.at, now: now) }
        let observed = Set(seriesByCheck.keys).union(tls.keys.map(\.check)).union(expiries.keys.map(\.check))
            .union(clientExpiries.keys.map(\.check))
        classes = classes.filter { observed.contains($0.key) }
    }

    /// A series whose latest result is older than three of its intervals (and than the silence
    /// window) no longer tells anything about now: the profile or check was removed, or the agent
    /// is catching up on an old spool.
    func isFresh(_ s: Series, now: Date, silentWindow: TimeInterval) -> Bool {
        now.timeIntervalSince(s.lastAt) <= max(silentWindow, 3 * (s.interval ?? 0))
    }
}

import Foundation
import SondaCore

/// One probe result as the alert rules see it: who probed what, when, and how it went.
public struct ResultEvent: Sendable, Hashable {
    public var check: String
    public var endpointClass: String
    public var agent: String
    public var region: String
    public var profile: String
    public var startedAt: Date
    public var ok: Bool
    /// A `ProbeError.Code` raw value (`tls_version`, `timeout`, …); nil when the probe passed.
    public var errorCode: String?
    /// The negotiated TLS version (`TLSv1.3`), when the handshake got that far.
    public var tlsVersion: String?
    /// The earliest `notAfter` in the presented chain.
    public var certificateExpiry: Date?
    /// The client certificate the check presented (mutual TLS): its subject and `notAfter`.
    public var clientCertificate: ClientCertificateExpiry?
    /// A flow's step; nil for a single-request check and for a flow's overall result, which is
    /// what the up/down rules count (its steps still feed the TLS and certificate rules).
    public var step: String?

    public init(
        check: String, endpointClass: String, agent: String, region: String, profile: String, startedAt: Date,
        ok: Bool, errorCode: String? = nil, tlsVersion: String? = nil, certificateExpiry: Date? = nil,
        step: String? = nil, clientCertificate: ClientCertificateExpiry? = nil
    ) {
        self.check = check
        self.endpointClass = endpointClass
        self.agent = agent
        self.region = region
        self.profile = profile
        self.startedAt = startedAt
        self.ok = ok
        self.errorCode = errorCode
        self.tlsVersion = tlsVersion
        self.certificateExpiry = certificateExpiry
        self.step = step
        self.clientCertificate = clientCertificate
    }
}

/// A client certificate as the alert rules read it from a result's `tls.client_cert`.
public struct ClientCertificateExpiry: Sendable, Hashable {
    public var subject: String
    public var notAfter: Date

    public init(subject: String, notAfter: Date) {
        self.subject = subject
        self.notAfter = notAfter
    }

    /// From the stored JSON's `tls.client_cert.subject` and `.not_after`; nil without a valid expiry.
    public init?(subject: String?, notAfterText notAfter: String?) {
        guard let notAfter, let date = Timestamp.parse(notAfter) else { return nil }
        self.init(subject: subject ?? "", notAfter: date)
    }
}

/// An agent was heard from (a batch or a lone heartbeat) at `at`, the aggregator's receive time.
public struct HeartbeatEvent: Sendable, Hashable {
    public var agent: String
    public var region: String
    public var at: Date

    public init(agent: String, region: String, at: Date) {
        self.agent = agent
        self.region = region
        self.at = at
    }
}

/// Outcome counts of one check in one region over the burn-rate windows, from the minute rollups.
public struct BurnCounts: Sendable, Hashable {
    public struct Window: Sendable, Hashable {
        public var total: Int
        public var failed: Int

        public init(total: Int, failed: Int) {
            self.total = total
            self.failed = failed
        }

        /// The error rate as a multiple of what the objective allows (`1 - availability`).
        func burnRate(objective: Double) -> Double {
            total > 0 ? Double(failed) / Double(total) / (1 - objective) : 0
        }
    }

    public var check: String
    public var endpointClass: String
    public var region: String
    public var fiveMinutes: Window
    public var thirtyMinutes: Window
    public var oneHour: Window
    public var sixHours: Window

    public init(
        check: String, endpointClass: String = "", region: String, fiveMinutes: Window, thirtyMinutes: Window,
        oneHour: Window, sixHours: Window
    ) {
        self.check = check
        self.endpointClass = endpointClass
        self.region = region
        self.fiveMinutes = fiveMinutes
        self.thirtyMinutes = thirtyMinutes
        self.oneHour = oneHour
        self.sixHours = sixHours
    }
}

/// What the service computes from the rollups for one evaluation; either may be left empty
/// (the engine then raises no budget or burn-rate alerts that round, and resolves none either).
public struct RollupInputs: Sendable {
    public var budgetCells: [BudgetReport.Cell]?
    public var burns: [BurnCounts]?

    public init(budgetCells: [BudgetReport.Cell]? = nil, burns: [BurnCounts]? = nil) {
        self.budgetCells = budgetCells
        self.burns = burns
    }
}

extension BudgetReport.Cell {
    /// A cell whose judged quantile is `valueMilliseconds` (the other quantiles set to the same),
    /// its state judged against `limitMilliseconds`: for tests and benchmarks of the alert rules.
    public init(
        region: String, profile: String, endpointClass: String, phase: String = "total", count: Int,
        quantile: String = "p95", valueMilliseconds value: Double?, limitMilliseconds limit: Double?
    ) {
        self.init(
            region: region, profile: profile, endpointClass: endpointClass, phase: phase, count: count, p50: value,
            p95: value, p99: value, quantile: quantile, limit: limit,
            state: BudgetState.judge(valueMilliseconds: value, limitMilliseconds: limit))
    }
}

import Foundation
import Synchronization

/// Where work with no caller to throw to reports its faults, so that none vanishes: each fault is
/// recorded by its cause, logged when the cause starts failing and when it recovers (not at every
/// occurrence: a checkpoint failing twice a second writes two lines, not a flood), counted on
/// `/metrics` (`metricsText`), and listed by `/health` while it persists (`health`).
///
/// `log` receives each transition, on the thread that recorded it.
public final class FaultLog: Sendable {
    /// A cause started failing, or recovered.
    public struct Change: Sendable, CustomStringConvertible {
        public let cause: FaultCause
        /// The first message of the fault, or nil when it recovered.
        public let failure: String?
        /// For a recovery: the fault that ended.
        public let ended: FaultLedger.Persisting?

        public var isRecovery: Bool { failure == nil }

        public var description: String {
            if let failure { return "\(cause.name): \(failure) (logged once until it recovers; see /health)" }
            let count = ended?.occurrences ?? 0
            return "\(cause.name): recovered after \(count) fault\(count == 1 ? "" : "s")"
        }
    }

    private let ledger: Mutex<FaultLedger>
    private let log: @Sendable (Change) -> Void

    /// `causes` are counted on `/metrics` from zero before their first fault.
    public init(causes: [FaultCause] = [], log: @escaping @Sendable (Change) -> Void = { _ in }) {
        ledger = Mutex(FaultLedger(causes: causes))
        self.log = log
    }

    /// Counts `causes` on `/metrics` from zero before their first fault.
    public func register(_ causes: FaultCause...) {
        ledger.withLock { $0.register(causes) }
    }

    /// `occurrences` faults of `cause`; `message` says what failed (no secrets: it is logged and
    /// served by `/health`).
    public func record(_ cause: FaultCause, _ message: String, occurrences: Int = 1) {
        let at = Date()
        let first = ledger.withLock { $0.fail(cause, message: message, occurrences: occurrences, at: at) }
        if first { log(Change(cause: cause, failure: message, ended: nil)) }
    }

    /// `cause` succeeded; a fault of it that persisted is over.
    public func recovered(_ cause: FaultCause) {
        guard let ended = ledger.withLock({ $0.succeed(cause) }) else { return }
        log(Change(cause: cause, failure: nil, ended: ended))
    }

    /// Runs `body`; a thrown error is recorded as a fault of `cause` (described by `describe`), a
    /// return as its recovery. Nil when it threw.
    @discardableResult
    public func attempt<T>(
        _ cause: FaultCause, describe: (any Error) -> String = { "\($0)" }, _ body: () async throws -> T
    ) async -> T? {
        do {
            let value = try await body()
            recovered(cause)
            return value
        } catch is CancellationError {
            return nil  // the task is being stopped, which is no fault of the cause
        } catch {
            record(cause, describe(error))
            return nil
        }
    }

    /// Faults recorded so far, by cause.
    public var entries: [FaultCause: FaultLedger.Entry] { ledger.withLock { $0.entries } }

    /// The faults that persist, as `/health` lists them.
    public func health() -> HealthReport {
        let persisting = entries.sorted { $0.key < $1.key }.compactMap { cause, entry in
            entry.persisting.map { HealthReport.Fault(cause: cause, $0) }
        }
        return HealthReport(faults: persisting)
    }

    /// `sonda_faults_total` and `sonda_fault_persisting` by cause, in Prometheus' text format.
    public func metricsText() -> String {
        let sorted = entries.sorted { $0.key < $1.key }
        var out = """
            # HELP sonda_faults_total Faults of work with no caller to report to (retention, checkpoints, rollups, spool writes), by cause.
            # TYPE sonda_faults_total counter

            """
        for (cause, entry) in sorted { out += "sonda_faults_total{cause=\"\(cause.name)\"} \(entry.total)\n" }
        out += """
            # HELP sonda_fault_persisting 1 while a cause has failed and not succeeded since.
            # TYPE sonda_fault_persisting gauge

            """
        for (cause, entry) in sorted {
            out += "sonda_fault_persisting{cause=\"\(cause.name)\"} \(entry.persisting == nil ? 0 : 1)\n"
        }
        return out
    }
}

import Foundation
import SondaCore
import Synchronization
import Testing

/// Faults of work with no caller are logged once per cause, counted every time, and reported by
/// `/health` until the cause succeeds again.
@Suite struct FaultLogTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ change: FaultLog.Change) { lines.withLock { $0.append("\(change)") } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func aCauseIsLoggedWhenItStartsFailingAndWhenItRecoversNotAtEveryFault() {
        let lines = Lines()
        let cause = FaultCause("retention")
        let faults = FaultLog(causes: [cause]) { lines.append($0) }
        #expect(faults.health().json == #"{"status":"ok"}"#)
        #expect(faults.metricsText().contains(#"sonda_faults_total{cause="retention"} 0"#))

        for attempt in 1...5 { faults.record(cause, "database is locked (\(attempt))") }
        #expect(lines.all == ["retention: database is locked (1) (logged once until it recovers; see /health)"])
        let health = faults.health()
        #expect(health.status == "degraded" && health.httpStatus == 200)
        #expect(health.faults.map { $0.occurrences } == [5])
        #expect(health.json.contains(#""cause":"retention""#) && health.json.contains("database is locked (5)"))
        #expect(faults.metricsText().contains(#"sonda_faults_total{cause="retention"} 5"#))
        #expect(faults.metricsText().contains(#"sonda_fault_persisting{cause="retention"} 1"#))

        faults.recovered(cause)
        faults.recovered(cause)
        #expect(lines.all.count == 2 && lines.all.last == "retention: recovered after 5 faults")
        #expect(faults.health().json == #"{"status":"ok"}"#)
        #expect(faults.metricsText().contains(#"sonda_faults_total{cause="retention"} 5"#), "counts stay")
        #expect(faults.metricsText().contains(#"sonda_fault_persisting{cause="retention"} 0"#))

        faults.record(cause, "disk I/O error")
        #expect(lines.all.count == 3, "a new failure after the recovery is logged again")
    }

    @Test func aCauseThatFailsHealthMakesItFailing() async {
        let faults = FaultLog()
        faults.record(FaultCause("retention"), "locked", occurrences: 2)
        await faults.attempt(FaultCause("spool_write", failsHealth: true)) { throw CocoaError(.fileWriteOutOfSpace) }
        let health = faults.health()
        #expect(health.status == "failing" && health.httpStatus == 503)
        #expect(health.faults.map { $0.cause } == ["retention", "spool_write"])
        #expect(health.faults.map { $0.occurrences } == [2, 1])
        await faults.attempt(FaultCause("spool_write", failsHealth: true)) {}
        #expect(faults.health().status == "degraded")
    }
}

import Foundation
import SondaCore
import Testing

@testable import SondaAgent

@Suite struct ProbeAttemptsTests {
    static func result(_ ok: Bool, step: String? = nil, total: Double = 1) -> ProbeResult {
        ProbeResult(
            step: step, startedAt: Date(timeIntervalSince1970: 1_795_428_000),
            error: ok ? nil : ProbeError(.connectRefused, "refused"), phases: PhaseTimings(total: total))
    }

    @Test func aPassingCheckIsProbedOnceWithNoAttemptsRecorded() {
        var calls = 0
        let results = ProbeAttempts.run(retries: 3) { _ in
            calls += 1
            return [Self.result(true)]
        }
        #expect(calls == 1)
        #expect(results.count == 1 && results[0].attempts == nil)
    }

    @Test func aFlakyCheckIsRetriedUntilItPassesAndKeepsEveryFailedAttempt() {
        var seen: [Int] = []
        let results = ProbeAttempts.run(retries: 3) { attempt in
            seen.append(attempt)
            return [Self.result(attempt == 3, total: Double(attempt))]
        }
        #expect(seen == [1, 2, 3])
        #expect(results[0].ok)
        #expect(results[0].attempts?.map(\.totalMilliseconds) == [1, 2])
        #expect(results[0].attempts?.allSatisfy { $0.error?.code == .connectRefused } == true)
    }

    @Test func aFailingCheckIsReportedFailedAfterItsRetries() {
        var calls = 0
        let results = ProbeAttempts.run(retries: 2) { _ in
            calls += 1
            return [Self.result(false)]
        }
        #expect(calls == 3, "one attempt and two retries")
        #expect(!results[0].ok)
        #expect(results[0].attempts?.count == 2)
    }

    @Test func noRetriesMeansOneAttempt() {
        var calls = 0
        let results = ProbeAttempts.run(retries: 0) { _ in
            calls += 1
            return [Self.result(false)]
        }
        #expect(calls == 1)
        #expect(results[0].attempts == nil)
    }

    @Test func aFlowIsRetriedOnItsOverallResultAndOnlyTheLastRunsStepsAreKept() {
        var calls = 0
        let results = ProbeAttempts.run(retries: 1) { attempt in
            calls += 1
            return [Self.result(true, step: "login"), Self.result(attempt == 2, step: "book"), Self.result(attempt == 2)]
        }
        #expect(calls == 2)
        #expect(results.count == 3)
        #expect(results.allSatisfy { $0.ok })
        #expect(results[0].attempts == nil && results[1].attempts == nil)
        #expect(results[2].attempts?.count == 1)
    }
}

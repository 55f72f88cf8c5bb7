import SondaAgent
import SondaCore
import Testing

@Suite struct ProbeScheduleTests {
    static func checks(_ count: Int, interval: Duration = .seconds(10)) -> [CheckSpec] {
        (0..<count).map {
            CheckSpec(
                name: "check-\($0)", endpointClass: "authentication", interval: interval,
                target: .http(HTTPStep(name: "", url: "https://x.example/")))
        }
    }

    @Test func firstRunsAreSpreadAcrossTheIntervalAndStableForAnAgent() {
        var schedule = ProbeSchedule(checks: Self.checks(50), profiles: ["none"], agentID: "sp-clinic-01")
        var perSecond = [Int](repeating: 0, count: 10)
        for second in 0..<10 {
            perSecond[second] = schedule.due(at: .milliseconds(second * 1000 + 999)).count
        }
        #expect(perSecond.reduce(0, +) == 50)
        #expect(perSecond.max()! <= 12, "50 checks over 10 s must not fire together: \(perSecond)")
        var again = ProbeSchedule(checks: Self.checks(50), profiles: ["none"], agentID: "sp-clinic-01")
        #expect(again.due(at: .milliseconds(999)).count == perSecond[0], "same agent, same phase")
        var mine = ProbeSchedule(checks: Self.checks(50), profiles: ["none"], agentID: "sp-clinic-01")
        var other = ProbeSchedule(checks: Self.checks(50), profiles: ["none"], agentID: "rj-clinic-01")
        #expect(
            Set(mine.due(at: .seconds(3)).map(\.check)) != Set(other.due(at: .seconds(3)).map(\.check)),
            "agents differ in phase")
    }

    @Test func aJobStillInFlightIsSkippedAndCountedNotQueued() {
        var schedule = ProbeSchedule(checks: Self.checks(1, interval: .seconds(1)), profiles: ["none"], agentID: "a")
        let first = schedule.due(at: .seconds(1))
        #expect(first.count == 1)
        #expect(schedule.due(at: .seconds(2)).isEmpty)
        #expect(schedule.due(at: .seconds(3)).isEmpty)
        #expect(schedule.skipped == 2)
        schedule.finished(first[0])
        #expect(schedule.due(at: .seconds(4)).count == 1)
    }

    @Test func aLongStallRunsOnceAndKeepsThePhase() {
        var schedule = ProbeSchedule(checks: Self.checks(1, interval: .seconds(10)), profiles: ["none"], agentID: "a")
        let next = schedule.nextDue!
        let job = schedule.due(at: next + .seconds(95))
        #expect(job.count == 1, "missed periods are not run in a burst")
        schedule.finished(job[0])
        #expect(schedule.nextDue == next + .seconds(100))
    }

    /// A reload (SIGHUP) keeps each job's slot: a check that has just run does not run again at
    /// once. A fresh schedule put every first slot in the past, so every check ran again on every
    /// reload, and a storm of reloads ran each check once a reload.
    @Test func aReloadKeepsEachJobsSlot() {
        let checks = Self.checks(50)
        var schedule = ProbeSchedule(checks: checks, profiles: ["none"], agentID: "a")
        // A worker queues a window's jobs when it opens: at 23 s, those due by its end at 25 s.
        let ran = schedule.due(at: .seconds(25))
        #expect(ran.count == 50)
        ran.forEach { schedule.finished($0) }
        var slower = Self.checks(1, interval: .seconds(20))[0]
        slower.name = "check-1"
        var added = Self.checks(1)[0]
        added.name = "added"
        let reloadedChecks = [checks[0], slower, added] + checks.dropFirst(2)
        var reloaded = schedule.reloaded(checks: reloadedChecks, profiles: ["none"], agentID: "a", at: .seconds(23))
        #expect(reloaded.due(at: .seconds(25)).map(\.check).filter { $0 != "added" }.isEmpty, "nothing runs again")
        let nextRound = reloaded.due(at: .seconds(35))
        #expect(nextRound.count >= 49, "each check that kept its interval, and the new one, once by 35 s")
        #expect(Set(nextRound.map(\.check)).contains("check-0"))
        #expect(!nextRound.map(\.check).contains("check-1"), "20 s after its last run, not 10 s")

        // Every check dropped by one reload and added back by the next keeps its slot too.
        let none = schedule.reloaded(checks: [], profiles: ["none"], agentID: "a", at: .milliseconds(23_100))
        var back = none.reloaded(checks: checks, profiles: ["none"], agentID: "a", at: .milliseconds(23_200))
        #expect(back.due(at: .seconds(25)).isEmpty, "nothing runs again")
        #expect(back.due(at: .seconds(35)).count == 50)
    }

    @Test func everyProfileIsItsOwnJob() {
        var schedule = ProbeSchedule(
            checks: Self.checks(2), profiles: ["desktop_brazil", "mobile_3g_brazil"], agentID: "a")
        #expect(schedule.jobCount == 4)
        #expect(Set(schedule.due(at: .seconds(10)).map(\.profile)) == ["desktop_brazil", "mobile_3g_brazil"])
    }

    @Test func backoffGrowsWithJitterUpToTheCapAndResets() {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(60))
        var generator = SystemRandomNumberGenerator()
        let waits = (0..<10).map { _ in backoff.failed(using: &generator).milliseconds }
        #expect(waits[0] >= 500 && waits[0] <= 1000)
        #expect(waits[3] >= 4000 && waits[3] <= 8000)
        #expect(waits.allSatisfy { $0 <= 60_000 })
        #expect(waits[9] >= 30_000)
        backoff.succeeded()
        #expect(backoff.failed(using: &generator).milliseconds <= 1000)
    }
}

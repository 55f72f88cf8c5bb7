import Foundation
import TestSupport
import Testing

/// `sonda-agent run` as a service: real probes against the lab, signed batches to a receiver that
/// verifies them like the aggregator, signals, outages and crashes.
@Suite(.serialized) struct AgentDaemonTests {
    /// A temporary agent set-up: key, receiver, config.
    final class Setup {
        let directory: String
        let receiver: BackgroundProcess
        let receiverPort: Int

        init(downFor seconds: Double = 0) async throws {
            let lab = try TLSLab.shared()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-daemon-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let keygen = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "t1")
            let publicKey = try #require(keygen.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
            receiver = try BackgroundProcess(
                "/usr/bin/env",
                [
                    "python3", TLSLab.packageRoot.appendingPathComponent("Tests/Support/test-receiver.py").path,
                    "--port-file", "\(directory)/receiver.port", "--out", "\(directory)/received.jsonl", "--agent", "t1",
                    "--public-key", String(publicKey), "--down-for", String(seconds),
                ])
            receiverPort = try await receiver.port(writtenTo: "\(directory)/receiver.port")
            try write(config: """
                agent: {id: t1, region: sao_paulo}
                aggregator: {url: "http://127.0.0.1:\(receiverPort)", key: agent.key}
                spool: spool
                batch: {max_results: 50, max_age: 500ms}
                profiles: [none]
                checks:
                  - {name: health, class: authentication, interval: 500ms, timeout: 400ms, http: {url: "\(lab.url("tls13", "/api/health"))"}, tls: {ca_file: \(lab.ca)}}
                  - {name: slow, class: reporting, interval: 1s, timeout: 900ms, http: {url: "\(lab.url("tls13", "/delay/300"))"}, tls: {ca_file: \(lab.ca)}}
                """)
        }

        func write(config: String) throws {
            try config.write(toFile: "\(directory)/agent.yaml", atomically: true, encoding: .utf8)
        }

        /// An agent file reporting to the receiver with these check lines (YAML flow mappings).
        func write(checks: [String]) throws {
            try write(config: """
                agent: {id: t1, region: sao_paulo}
                aggregator: {url: "http://127.0.0.1:\(receiverPort)", key: agent.key}
                spool: spool
                profiles: [none]
                checks:
                \(checks.map { "  - " + $0 }.joined(separator: "\n"))
                """)
        }

        func startAgent(_ options: String...) throws -> BackgroundProcess {
            try BackgroundProcess(
                AgentCLI.binary,
                ["run", "--config", "\(directory)/agent.yaml", "--listen", "127.0.0.1:0"] + options)
        }

        /// Result ids the receiver accepted (signature verified), in order.
        var receivedIDs: [String] {
            let text = (try? String(contentsOfFile: "\(directory)/received.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").flatMap { line -> [String] in
                guard let batch = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let results = batch["results"] as? [[String: Any]]
                else { return [] }
                return results.compactMap { $0["id"] as? String }
            }
        }

        /// (check, started_at) of the results the receiver accepted.
        var receivedStarts: [(check: String, startedAt: Date)] {
            let text = (try? String(contentsOfFile: "\(directory)/received.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").flatMap { line -> [(check: String, startedAt: Date)] in
                guard let batch = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let results = batch["results"] as? [[String: Any]]
                else { return [] }
                return results.compactMap { result in
                    guard let check = result["check"] as? String, let started = result["started_at"] as? String,
                        let date = try? Date(started, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
                    else { return nil }
                    return (check, date)
                }
            }
        }

        /// Ids of results still in the spool's batch files.
        var spooledIDs: [String] {
            let spool = "\(directory)/spool"
            let files = (try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []
            return files.flatMap { name -> [String] in
                let text = (try? String(contentsOfFile: "\(spool)/\(name)", encoding: .utf8)) ?? ""
                return text.split(separator: "\n").compactMap { line in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
                }
            }
        }

        func get(_ path: String, from agent: BackgroundProcess) async -> (Int, String) {
            let port = (try? await agent.agentListenPort()) ?? 0
            let run = try? await ChildProcess.run("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
            let lines = (run?.stdout ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test func reportsSignedResultsServesMetricsReloadsAndDrainsOnSIGTERM() async throws {
        let setup = try await Setup()
        let agent = try setup.startAgent()
        // Until both checks have run and results have been delivered.
        var metrics = ""
        let running = await eventually {
            let (status, text) = await setup.get("/metrics", from: agent)
            metrics = text
            return status == 200 && text.contains(#"probe_success{check="health",profile="none"} 1"#)
                && text.contains(#"probe_http_duration_seconds{check="slow",profile="none",phase="processing"} "#)
                && setup.receivedIDs.count >= 5
        }
        #expect(running, "both checks ran and reported: \(agent.log)\n\(metrics)")
        let (healthStatus, _) = await setup.get("/health", from: agent)
        #expect(healthStatus == 200, "\(agent.log)")
        #expect(metrics.contains(#"probe_success{check="health",profile="none"} 1"#), "\(metrics)")
        let processingLine = metrics.split(separator: "\n").first { $0.hasPrefix(#"probe_http_duration_seconds{check="slow",profile="none",phase="processing"} "#) }
        let wait = try #require(processingLine.flatMap { Double($0.split(separator: " ").last ?? "") })
        #expect(wait > 0.28 && wait < 0.45, "the 300 ms server delay shows in blackbox's processing phase: \(wait)")
        #expect(metrics.contains("sonda_probes_total "))
        // Its threads are named as `top -H` shows them.
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(agent.pid)/task")) ?? []
        let threadNames = Set(tasks.compactMap { try? String(contentsOfFile: "/proc/\(agent.pid)/task/\($0)/comm", encoding: .utf8) })
        #expect(threadNames.isSuperset(of: ["sonda-probe-0\n", "sonda-http\n", "sonda-reporter\n"]), "\(threadNames)")
        #expect(metrics.contains(#"sonda_probe_phase_seconds_bucket{profile="none",phase="wait",le="+Inf"}"#))
        let exposition = "\(setup.directory)/metrics.txt"
        try metrics.write(toFile: exposition, atomically: true, encoding: .utf8)
        let lint = try await ChildProcess.run("/bin/sh", ["-c", "promtool check metrics < \(exposition)"])
        #expect(lint.status == 0, "promtool check metrics: \(lint.stdout)\(lint.stderr)")

        let working = try String(contentsOfFile: "\(setup.directory)/agent.yaml", encoding: .utf8)
        try setup.write(config: "agent: {id: t1, region: sao_paulo}\nchecks: [{name: x, clas: oops}]\n")
        agent.signal(SIGHUP)
        _ = await eventually(every: .milliseconds(100)) {
            agent.log.contains("keeping the running config") || agent.exitStatus != nil
        }
        #expect(await agent.wait(timeout: .milliseconds(10)) == nil, "a broken config on SIGHUP keeps the agent running")
        #expect(agent.log.contains("keeping the running config"))
        #expect(agent.log.contains("unknown key 'clas'"))

        // A good config without `slow`: it stops running and leaves /metrics; `health` goes on.
        try setup.write(config: working.split(separator: "\n").filter { !$0.contains("name: slow") }.joined(separator: "\n"))
        agent.signal(SIGHUP)
        var reloaded = ""
        _ = await eventually {
            guard agent.log.contains("reloaded: 1 checks") else { return false }
            reloaded = await setup.get("/metrics", from: agent).1
            return !reloaded.contains(#"check="slow""#)
                && reloaded.contains(#"probe_success{check="health",profile="none"} 1"#)
        }
        #expect(agent.log.contains("reloaded: 1 checks"), "\(agent.log)")
        #expect(!reloaded.contains(#"check="slow""#), "a removed check leaves the scrape: \(reloaded)")
        #expect(reloaded.contains(#"probe_success{check="health",profile="none"} 1"#))

        agent.signal(SIGTERM)
        let status = await agent.wait()
        #expect(status == 0, "\(agent.log)")
        let ids = setup.receivedIDs
        #expect(ids.count >= 5, "\(agent.log)")
        #expect(Set(ids).count == ids.count, "each result once")
        #expect(setup.spooledIDs.isEmpty, "SIGTERM flushes the spool")
    }

    @Test func aProbeLongerThanTheGraceDoesNotHoldUpSIGTERM() async throws {
        let setup = try await Setup()
        let lab = try TLSLab.shared()
        // Five checks of 4.5 s every 5 s: one is always in flight once they have all started.
        try setup.write(checks: (1...5).map {
            "{name: slow\($0), class: reporting, interval: 5s, timeout: 5s, http: {url: \"\(lab.url("http", "/delay/4500"))\"}}"
        })
        let agent = try setup.startAgent("--grace", "1s")
        try await Task.sleep(for: .milliseconds(5500))
        let signalled = ContinuousClock.now
        agent.signal(SIGTERM)
        let status = await agent.wait()
        let took = ContinuousClock.now - signalled
        #expect(status == 1, "exits 1 when the grace runs out: \(agent.log)")
        #expect(took < .seconds(4), "the grace (1 s) and one last send (at most 3 s) bound the exit: \(took)")
        #expect(agent.log.contains("longer than the grace of 1s"), "\(agent.log)")
    }

    @Test func aSlowTargetDoesNotHoldUpTheChecksQueuedBehindIt() async throws {
        let setup = try await Setup()
        let lab = try TLSLab.shared()
        // Three fast checks due in the same window as a 1.5 s one, all every 2 s: the scheduler
        // queues them behind it (listed first) in one batch (its windows are 400 ms, a fifth of
        // the interval, from its start).
        let slow = Self.jitterMilliseconds("slow", within: 2000)
        let fast = (0..<100_000).lazy.map { "fast\($0)" }.filter {
            Self.jitterMilliseconds($0, within: 2000) / 400 == slow / 400
        }.prefix(3)
        try #require(fast.count == 3)
        try setup.write(
            checks: ["{name: slow, class: reporting, interval: 2s, timeout: 1900ms, http: {url: \"\(lab.url("http", "/delay/1500"))\"}}"]
                + fast.map { "{name: \($0), class: reporting, interval: 2s, timeout: 1s, http: {url: \"\(lab.url("http", "/"))\"}}" })
        let agent = try setup.startAgent()
        var metrics = ""
        func sample(_ name: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        // Until two rounds of the four checks have run (4 s from the start on an idle machine).
        _ = await eventually(every: .milliseconds(500)) {
            metrics = await setup.get("/metrics", from: agent).1
            return (sample("sonda_probe_queue_wait_seconds_count") ?? 0) >= 8
        }
        agent.signal(SIGTERM)
        _ = await agent.wait()
        let count = try #require(sample("sonda_probe_queue_wait_seconds_count"), "\(metrics)")
        let quick = try #require(sample(#"sonda_probe_queue_wait_seconds_bucket{le="0.25"}"#), "\(metrics)")
        #expect(count >= 8, "two rounds of four checks: \(agent.log)")
        #expect(quick == count, "no check waited for the slow one (1.5 s): \(metrics)")
    }

    /// Windows are fixed slices of the scheduler's clock, so a check whose interval is a multiple
    /// of the window starts at the same point of its window every round: its runs are exactly its
    /// interval apart, however the other checks' slots fall.
    @Test func checksRunExactlyTheirIntervalApart() async throws {
        let setup = try await Setup()
        let lab = try TLSLab.shared()
        // 25 checks every second (200 ms windows), due 40 ms apart. Windows opened by the first
        // job due instead (100 ms, three jobs each) would not end with the round: the last one
        // would take the next round's first jobs, 40 and 80 ms early, and so on, round after round.
        let names = try (0..<25).map { k in
            try #require((0..<100_000).lazy.map { "steady\($0)" }.first { Self.jitterMilliseconds($0, within: 1000) / 5 == 8 * k })
        }
        try setup.write(checks: names.map {
            "{name: \($0), class: reporting, interval: 1s, timeout: 900ms, http: {url: \"\(lab.url("http", "/"))\"}}"
        })
        let noise = SchedulerNoise()
        let agent = try setup.startAgent()
        try await Task.sleep(for: .milliseconds(4500))
        let lateness = noise.stop()
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        let starts = Dictionary(grouping: setup.receivedStarts, by: \.check)
        // A busy machine delays a run now and then by tens of milliseconds (up to 69 ms seen with
        // both cores taken); the windows' fault shifted two jobs of every window, every round. So
        // no run may be 100 ms off beyond the worst delay the machine gave a sleeping thread of
        // ours meanwhile, and three in four must be within 30 ms.
        let bound = 0.1 + lateness.worst / 1000
        var off: [Double] = []
        for name in names {
            let times = (starts[name] ?? []).map(\.startedAt).sorted()
            #expect(times.count >= 3, "\(name) ran: \(times)")
            for (earlier, later) in zip(times, times.dropFirst()) {
                let apart = later.timeIntervalSince(earlier)
                off.append(abs(apart - 1))
                #expect(abs(apart - 1) < bound, "\(name) ran \(apart) s after its previous run: \(times); \(lateness)")
            }
        }
        let close = off.filter { $0 < 0.03 }.count
        #expect(close * 4 >= off.count * 3, "only \(close) of \(off.count) runs within 30 ms: \(off.sorted())")
    }

    /// A probe alone in its window that hangs does not hold up the windows after it: another
    /// worker wakes for them while it waits.
    @Test func aHungProbeDoesNotHoldUpTheNextWindows() async throws {
        let setup = try await Setup()
        let lab = try TLSLab.shared()
        // A 3 s probe starting early in its 10 s interval, and a check every second whose runs
        // fall well outside the slow one's window (200 ms, a fifth of the shortest interval).
        let slow = try #require((0..<100_000).lazy.map { "slow\($0)" }.first { Self.jitterMilliseconds($0, within: 10_000) < 1500 })
        let slowStart = Self.jitterMilliseconds(slow, within: 10_000)
        let fast = try #require((0..<100_000).lazy.map { "fast\($0)" }.first {
            let apart = (Self.jitterMilliseconds($0, within: 1000) + 1000 - slowStart % 1000) % 1000
            return apart > 300 && apart < 700
        })
        try setup.write(checks: [
            "{name: \(slow), class: reporting, interval: 10s, timeout: 5s, http: {url: \"\(lab.url("http", "/delay/3000"))\"}}",
            "{name: \(fast), class: reporting, interval: 1s, timeout: 1s, http: {url: \"\(lab.url("http", "/"))\"}}",
        ])
        let agent = try setup.startAgent()
        try await Task.sleep(for: .milliseconds(Int(slowStart) + 3800))
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        let starts = setup.receivedStarts
        let slowRun = try #require(starts.first { $0.check == slow }, "\(agent.log)")
        let during = starts.filter { $0.check == fast && $0.startedAt > slowRun.startedAt && $0.startedAt < slowRun.startedAt + 2.9 }
        #expect(during.count >= 2, "the check due every second ran while the 3 s probe hung: \(starts)")
    }

    /// With nothing due, no thread of the agent wakes every second: libdispatch's workqueue
    /// monitor did (on Swift's default executor), a reporter polling an empty spool did, and a
    /// scheduler ticking at 1 Hz did, some 18 wake-ups in 6 s between them.
    @Test func anIdleAgentSleeps() async throws {
        let setup = try await Setup()
        let lab = try TLSLab.shared()
        let names = (0..<100_000).lazy.map { "idle\($0)" }.filter { Self.jitterMilliseconds($0, within: 3_600_000) > 60_000 }
        try setup.write(checks: names.prefix(5).map {
            "{name: \($0), class: reporting, interval: 1h, timeout: 1s, http: {url: \"\(lab.url("http", "/"))\"}}"
        })
        let agent = try setup.startAgent()
        _ = try await agent.agentListenPort()
        try await Task.sleep(for: .seconds(3))  // past the release of start-up pages at 2 s
        let before = Self.voluntarySwitches(of: agent.pid)
        try await Task.sleep(for: .seconds(6))
        // Threads alive at both ends (libdispatch's idle workers exit, taking their counts along).
        let slept = Self.voluntarySwitches(of: agent.pid).reduce(0) { $0 + $1.value - (before[$1.key] ?? $1.value) }
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        #expect(slept <= 3, "wake-ups in 6 s idle: \(slept)")
    }

    /// For each of the agent's threads, the times it went to sleep waiting for something (each
    /// is a wake-up).
    static func voluntarySwitches(of pid: Int32) -> [String: Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return Dictionary(uniqueKeysWithValues: tasks.map { task in
            let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
            return (task, line.flatMap { Int($0.split(separator: "\t").last ?? "") } ?? 0)
        })
    }

    /// The scheduler's first-run offset for a check of agent `t1` under profile `none`
    /// (ProbeSchedule.jitter: FNV-1a of "agent/check/profile" modulo the interval).
    static func jitterMilliseconds(_ check: String, within interval: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "t1/\(check)/none".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash % interval
    }

    @Test func anAggregatorOutageLosesNothing() async throws {
        let setup = try await Setup(downFor: 2.5)
        let agent = try setup.startAgent()
        // Until the agent met the outage (2.5 s from its first batch on) and delivered after it.
        _ = await eventually { agent.log.contains("HTTP 503") && setup.receivedIDs.count >= 6 }
        agent.signal(SIGTERM)
        #expect(await agent.wait() == 0, "\(agent.log)")
        #expect(agent.log.contains("HTTP 503"), "the outage was seen and retried: \(agent.log)")
        let ids = setup.receivedIDs
        #expect(ids.count >= 6)
        #expect(Set(ids).count == ids.count)
        #expect(setup.spooledIDs.isEmpty, "everything delivered after the outage")
    }

    @Test func killedMidRunThenRestartedDeliversEverySpooledResult() async throws {
        let setup = try await Setup(downFor: 5)
        let first = try setup.startAgent()
        // Killed as soon as its first batch met the outage (5 s from that batch on): it is still spooled.
        _ = await eventually(every: .milliseconds(50)) { first.log.contains("HTTP 503") || first.exitStatus != nil }
        first.signal(SIGKILL)
        _ = await first.wait()
        let spooled = setup.spooledIDs
        #expect(!spooled.isEmpty, "results were spooled while the receiver was down: \(first.log)")
        let second = try setup.startAgent()
        // Until the restarted agent has delivered them, once the outage is over.
        _ = await eventually { Set(spooled).isSubset(of: Set(setup.receivedIDs)) }
        second.signal(SIGTERM)
        #expect(await second.wait() == 0, "\(second.log)")
        let received = Set(setup.receivedIDs)
        #expect(Set(spooled).isSubset(of: received), "every result spooled before the kill is delivered")
    }
}

import Foundation
import TestSupport
import Testing

/// The agent's `/metrics` and `/health` listener against scrapers that misbehave: none of them
/// holds up another scrape, none stops or kills the agent, and the probes go on meanwhile.
@Suite struct AgentListenerTests {
    typealias Setup = AgentDaemonTests.Setup

    /// A running agent whose results reach the receiver, and its listen port.
    static func start() async throws -> (Setup, BackgroundProcess, Int) {
        let setup = try await Setup()
        let agent = try setup.startAgent()
        let port = try await agent.agentListenPort()
        let reporting = await eventually { setup.receivedIDs.count >= 2 || agent.exitStatus != nil }
        try #require(reporting && agent.exitStatus == nil, "the agent reports: \(agent.log)")
        return (setup, agent, port)
    }

    /// Waits until the receiver has results started after `since`: the probes kept running.
    static func probesWentOn(_ setup: Setup, since: Date, count: Int = 6) async -> Bool {
        await eventually { setup.receivedStarts.filter { $0.startedAt > since }.count >= count }
    }

    @Test func aSlowlorisScraperHoldsUpNoOtherScrapeAndIsCutOff() async throws {
        let (setup, agent, port) = try await Self.start()
        let since = Date()
        // Ten clients that send a byte of their request head a second, and never finish it.
        let clients = try (0..<10).map { _ in try RawHTTPClient(port: port) }
        let connected = ContinuousClock.now
        let trickling = Task.detached {
            let head = Array("GET /metrics HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8)
            for byte in head {
                try await Task.sleep(for: .seconds(1))
                for client in clients where !client.peerAnsweredOrClosed { client.send(String(UnicodeScalar(byte))) }
                if clients.allSatisfy(\.peerAnsweredOrClosed) { return }
            }
        }
        defer {
            trickling.cancel()
            for client in clients { client.close() }
        }
        let scrape = await onThread { RawHTTPClient.get("/metrics", port: port) }
        let waiting = clients.filter { !$0.peerAnsweredOrClosed }.count
        #expect(scrape?.status == 200 && scrape?.body.contains("sonda_probes_total") == true)
        // Judged only when the scrape came within the agent's 5 s request timeout, after which the
        // slow clients are rightly gone (a machine loaded far past CI's can take that long).
        let took = ContinuousClock.now - connected
        #expect(
            waiting > 0 || took >= .seconds(5),
            "the scrape was answered while the slow clients were still sending, not after them (\(took))")
        let health = await onThread { RawHTTPClient.get("/health", port: port) }
        #expect(health?.status == 200, "\(health?.body ?? "no answer")")

        #expect(await eventually { clients.allSatisfy(\.peerAnsweredOrClosed) }, "the agent cuts slow requests off")
        #expect(await Self.probesWentOn(setup, since: since), "the probes kept their schedule")
        #expect(agent.exitStatus == nil, "\(agent.log)")
    }

    @Test func scrapersThatResetTheConnectionDoNotKillTheAgent() async throws {
        let (setup, agent, port) = try await Self.start()
        let since = Date()
        await onThread {
            for round in 0..<30 {
                guard let client = try? RawHTTPClient(port: port) else { continue }
                switch round % 3 {
                case 0:
                    client.reset()  // before sending anything: the agent's answer meets a reset socket
                case 1:
                    client.send("GET /metrics HTTP/1.1\r\n\r\n")
                    client.reset()
                default:
                    client.send("GET /metrics HTTP/1.1\r\n\r\n")
                    _ = client.read(upTo: 100)
                    client.reset()  // mid-answer
                }
            }
        }
        let scrape = await onThread { RawHTTPClient.get("/metrics", port: port) }
        #expect(scrape?.status == 200, "the agent still answers: \(agent.log)")
        #expect(await Self.probesWentOn(setup, since: since), "the probes kept their schedule")
        #expect(agent.exitStatus == nil, "no SIGPIPE: \(agent.log)")
    }

    @Test func fiftyConcurrentScrapesAreAllAnsweredWhileProbesGoOn() async throws {
        let (setup, agent, port) = try await Self.start()
        let since = Date()
        let answers = await withTaskGroup(of: (status: Int, body: String)?.self) { group in
            for _ in 0..<50 { group.addTask { await onThread { RawHTTPClient.get("/metrics", port: port) } } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 50)
        #expect(answers.allSatisfy { $0?.status == 200 && $0?.body.contains("sonda_probes_total") == true })
        #expect(await Self.probesWentOn(setup, since: since), "the probes kept their schedule")
        #expect(agent.exitStatus == nil, "\(agent.log)")
    }
}

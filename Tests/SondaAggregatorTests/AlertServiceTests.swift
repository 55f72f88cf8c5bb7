import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaConfig
import SondaCore
import Synchronization
import TestSupport
import Testing

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Keeps every round the service hands over.
final class RecordingSink: AlertSink {
    private let stored = Mutex<[AlertRound]>([])
    var rounds: [AlertRound] { stored.withLock { $0 } }
    var changed: [AlertNotification] { rounds.flatMap(\.changed) }
    func send(_ round: AlertRound) async { stored.withLock { $0.append(round) } }
}

@Suite struct AlertServiceTests {
    static let agents = [("sp-clinic-01", "sao_paulo"), ("rj-clinic-01", "rio"), ("intl-01", "international")]

    /// A store with three configured agents; `write` ingests one minute of results like agents do.
    struct Fleet {
        let directory = NSTemporaryDirectory() + "sonda-alerts-\(UUID().uuidString)"
        var config = AggregatorConfig()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))

        init(readTokens: [String] = [], adminTokens: [String] = []) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            config.database = directory + "/sonda.sqlite"
            config.readTokens = readTokens
            config.adminTokens = adminTokens
            config.agents = AlertServiceTests.agents.map { .init(id: $0.0, region: $0.1, publicKey: Data(count: 32)) }
        }

        func store() throws -> SQLiteStore { try SQLiteStore(path: config.database) }

        func write(_ store: SQLiteStore, failing: Set<String>, error: ProbeError.Code = .timeout, tls: TLSReport? = nil)
            async throws
        {
            for (agent, region) in AlertServiceTests.agents {
                let result = ProbeResult(
                    check: "booking", agent: agent, region: region, profile: "desktop_brazil",
                    endpointClass: "appointment_booking", startedAt: clock.now,
                    error: failing.contains(agent) ? ProbeError(error, "seen") : nil,
                    phases: PhaseTimings(dns: 1, connect: 1, tls: 1, send: 1, wait: 1, receive: 1, total: 6), tls: tls)
                let batch = ResultBatch(
                    agent: agent, batchID: UUID().uuidString, sentAt: clock.now, results: [result],
                    heartbeat: Heartbeat(version: "0.1.0", configHash: "abc", spoolDepth: 0, dropped: 0))
                _ = try await store.write(batch, region: region, now: clock.now)
            }
        }

        func service(_ store: SQLiteStore, sink: RecordingSink) -> AlertService {
            let clock = clock
            return AlertService(config: config, store: store, sink: sink, now: { clock.now })
        }

        func router(_ store: SQLiteStore) -> some ApplicationProtocol {
            let clock = clock
            return Application(router: AggregatorRouter(config: config, store: store, now: { clock.now }).build())
        }
    }

    /// An evaluator that finds a full page reads the next one at once, not a period later: with
    /// an hour between rounds it still reaches the last of 120 new results 20 at a time.
    @Test func anEvaluatorBehindReadsPageAfterPageWithoutWaitingForItsPeriod() async throws {
        var fleet = try Fleet()
        fleet.config.alerting.evaluateEvery = .seconds(3600)
        let store = try fleet.store()
        let clock = fleet.clock
        let service = AlertService(
            config: fleet.config, store: store, sink: RecordingSink(), now: { clock.now }, page: 20)
        try await fleet.write(store, failing: [])
        try await service.evaluateOnce()  // starts after these three
        let before = try await store.alertStart(since: clock.now).cursor
        for _ in 0..<40 { try await fleet.write(store, failing: []) }
        let all = try await store.resultEvents(after: before, limit: 1000)
        #expect(all.events.count == 120)
        let running = Task { try await service.run() }
        defer { running.cancel() }
        let caughtUp = await eventually(every: .milliseconds(50)) {
            (try? await store.alertStart(since: clock.now.addingTimeInterval(-60)).cursor) == all.last
        }
        #expect(caughtUp, "the evaluator's cursor never reached the last result")
    }

    @Test func aFiringAlertSurvivesARestartWithoutBeingAnnouncedAgain() async throws {
        let fleet = try Fleet()
        let down: Set = ["sp-clinic-01", "rj-clinic-01"]
        let first = RecordingSink()
        do {
            let store = try fleet.store()
            let service = fleet.service(store, sink: first)
            for _ in 0..<3 {
                try await fleet.write(store, failing: down)
                fleet.clock.advance(15)
                try await service.evaluateOnce()
                fleet.clock.advance(45)
            }
        }
        let page = try #require(first.changed.first { $0.labels["alertname"] == "SondaDown" })
        #expect(first.changed.count == 1 && page.status == .firing)

        let second = RecordingSink()
        let store = try fleet.store()
        let restarted = fleet.service(store, sink: second)
        for _ in 0..<3 {
            try await fleet.write(store, failing: down)
            fleet.clock.advance(15)
            try await restarted.evaluateOnce()
            fleet.clock.advance(45)
        }
        #expect(second.changed.isEmpty, "\(second.changed.map(\.labels))")
        #expect(second.rounds.last?.firing.map(\.fingerprint) == [page.fingerprint])
        for _ in 0..<3 {
            try await fleet.write(store, failing: [])
            fleet.clock.advance(15)
            try await restarted.evaluateOnce()
            fleet.clock.advance(45)
        }
        #expect(second.changed.map(\.status) == [.resolved] && second.changed.first?.fingerprint == page.fingerprint)
        let audit = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit WHERE kind = 'alert' ORDER BY seq")
        }
        #expect(audit.count == 2 && audit[0].hasPrefix("fired fingerprint=\(page.fingerprint)"))
        #expect(audit[1].hasPrefix("resolved fingerprint=\(page.fingerprint)"))
        #expect(try await store.verifyAudit().firstBroken == nil)
    }

    @Test func tlsAndCertificateFieldsAreReadFromStoredResults() async throws {
        let fleet = try Fleet()
        let store = try fleet.store()
        let sink = RecordingSink()
        let service = fleet.service(store, sink: sink)
        var tls = TLSReport(version: "TLSv1.2", cipher: nil, verified: true, leaf: nil, chain: [], now: fleet.clock.now)
        tls.earliestExpiry = fleet.clock.now.addingTimeInterval(6 * 86_400)
        try await fleet.write(store, failing: ["sp-clinic-01"], error: .tlsVersion, tls: tls)
        fleet.clock.advance(15)
        try await service.evaluateOnce()
        let names = sink.changed.map { "\($0.labels["alertname"]!) \($0.labels["severity"]!)" }.sorted()
        #expect(names == ["SondaCertExpiry critical", "SondaTLSPolicy critical"])
        #expect(sink.changed.first { $0.labels["alertname"] == "SondaTLSPolicy" }?.labels["agent"] == "sp-clinic-01")
    }

    @Test func aResultIngestedLateIsStillRead() async throws {
        let fleet = try Fleet()
        let store = try fleet.store()
        let sink = RecordingSink()
        let service = fleet.service(store, sink: sink)
        try await service.evaluateOnce()
        // A batch arrives now with a result from before the last evaluation (an agent's spool).
        fleet.clock.advance(-30)
        var tls = TLSReport(
            version: "TLSv1.3", cipher: nil, verified: false, leaf: nil, chain: [], now: fleet.clock.now)
        tls.earliestExpiry = nil
        try await fleet.write(store, failing: ["intl-01"], error: .tlsUntrusted, tls: tls)
        fleet.clock.advance(60)
        try await service.evaluateOnce()
        #expect(sink.changed.map { $0.labels["alertname"] } == ["SondaTLSPolicy"])
    }

    @Test func alertsEndpointListsFiringAndSilencedAlerts() async throws {
        let fleet = try Fleet(readTokens: ["t0ken"], adminTokens: ["admin-t0ken-0123456789"])
        let store = try fleet.store()
        let service = fleet.service(store, sink: RecordingSink())
        for _ in 0..<3 {
            try await fleet.write(store, failing: ["sp-clinic-01", "rj-clinic-01"], error: .connectRefused)
            fleet.clock.advance(15)
            try await service.evaluateOnce()
            fleet.clock.advance(45)
        }
        let auth: HTTPFields = [.authorization: "Bearer t0ken"]
        try await fleet.router(store).test(.router) { client in
            let refused = try await client.execute(uri: "/v1/alerts", method: .get)
            #expect(refused.status == .unauthorized)
            let response = try await client.execute(uri: "/v1/alerts", method: .get, headers: auth)
            #expect(response.status == .ok)
            let object =
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: [[String: Any]]]
            let alert = try #require(object?["alerts"]?.first)
            #expect(
                Set(alert.keys).isSuperset(of: ["fingerprint", "labels", "state", "starts_at", "ends_at", "summary"]))
            #expect(alert["state"] as? String == "firing" && alert["ends_at"] is NSNull)
            #expect((alert["labels"] as? [String: String])?["alertname"] == "SondaDown")

            let body = ByteBuffer(string: #"{"matchers":{"check":"booking"},"duration":"2h","comment":"deploy"}"#)
            let admin: HTTPFields = [.authorization: "Bearer admin-t0ken-0123456789"]
            let created = try await client.execute(uri: "/v1/silences", method: .post, headers: admin, body: body)
            #expect(created.status == .created)
            let silence = try JSONDecoder().decode(SilenceEntry.self, from: Data(buffer: created.body))
            #expect(silence.matchers == ["check": "booking"] && silence.comment == "deploy")
            let listed = try await client.execute(uri: "/v1/silences", method: .get, headers: auth)
            #expect(
                try JSONDecoder().decode(SilenceList.self, from: Data(buffer: listed.body)).silences.map(\.id) == [
                    silence.id
                ])
            let after = try await client.execute(uri: "/v1/alerts?state=silenced", method: .get, headers: auth)
            let list = try JSONDecoder().decode(AlertList.self, from: Data(buffer: after.body))
            #expect(list.alerts.map(\.state) == ["silenced"])
            let firing = try await client.execute(uri: "/v1/alerts?state=firing", method: .get, headers: auth)
            #expect(try JSONDecoder().decode(AlertList.self, from: Data(buffer: firing.body)).alerts.isEmpty)
            let bad = try await client.execute(uri: "/v1/alerts?state=burning", method: .get, headers: auth)
            #expect(bad.status == .badRequest && errorCode(bad) == "bad_parameter")
        }
        // The evaluator sees the silence too: nothing more is sent for the alert.
        let sink = RecordingSink()
        let next = fleet.service(store, sink: sink)
        fleet.clock.advance(16 * 60)
        try await fleet.write(store, failing: ["sp-clinic-01", "rj-clinic-01"], error: .connectRefused)
        try await next.evaluateOnce()
        #expect(sink.rounds.allSatisfy { $0.firing.isEmpty && $0.reminders.isEmpty })
    }

    @Test func anAgentRemovedFromTheConfigurationIsNotReportedSilent() async throws {
        let fleet = try Fleet()
        let store = try fleet.store()
        let retired = ResultBatch(
            agent: "retired-01", batchID: UUID().uuidString, sentAt: fleet.clock.now, results: [],
            heartbeat: Heartbeat(version: "0.1.0", configHash: "abc", spoolDepth: 0, dropped: 0))
        _ = try await store.write(retired, region: "recife", now: fleet.clock.now)
        let sink = RecordingSink()
        let service = fleet.service(store, sink: sink)
        for _ in 0..<6 {
            try await fleet.write(store, failing: [])
            fleet.clock.advance(60)
            try await service.evaluateOnce()
        }
        #expect(sink.changed.isEmpty, "\(sink.changed.map(\.labels))")
        // A configured agent that stops is.
        for _ in 0..<5 {
            fleet.clock.advance(60)
            try await service.evaluateOnce()
        }
        #expect(Set(sink.changed.compactMap { $0.labels["agent"] }) == Set(Self.agents.map(\.0)))
    }

    @Test(arguments: [
        ("not json", "malformed"),
        (#"{"matchers":{},"duration":"2h"}"#, "bad_silence"),
        (#"{"matchers":{"check":"booking"}}"#, "bad_silence"),
        (#"{"matchers":{"check":"booking"},"duration":"forever"}"#, "bad_silence"),
        (#"{"matchers":{"check":"booking"},"duration":"90d"}"#, "bad_silence"),
        (#"{"matchers":{"check":7},"duration":"2h"}"#, "bad_silence"),
        (#"{"matchers":{"check":"booking"},"duration":"2h","coment":"x"}"#, "bad_silence"),
    ])
    func badSilencesAreRefusedWithAReason(_ body: String, _ code: String) async throws {
        let fleet = try Fleet(adminTokens: ["admin-t0ken-0123456789"])
        let store = try fleet.store()
        try await fleet.router(store).test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/silences", method: .post, headers: [.authorization: "Bearer admin-t0ken-0123456789"],
                body: ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            #expect(errorCode(response) == code, "\(String(buffer: response.body))")
            if body.contains("coment") { #expect(String(buffer: response.body).contains("did you mean 'comment'?")) }
        }
        let count = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM silences") }
        #expect(count == 0)
    }
}

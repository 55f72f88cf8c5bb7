import Foundation
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// Notifications queued in the database, on both stores: they outlive the process that queued
/// them, are retried until delivered or expired (not for five tries only), reach a receiver in
/// order, and two senders on one database (two replicas) never send one twice.
@Suite struct DurableDeliveryTests {
    enum Store: String, CaseIterable { case sqlite, postgres }

    static func open(_ kind: Store) async throws -> any AggregatorStore {
        switch kind {
        case .sqlite:
            return try SQLiteStore(path: NSTemporaryDirectory() + "sonda-outbox-\(UUID().uuidString).sqlite")
        case .postgres:
            return try await PostgresStore.forTests(try PostgresURL(try await PostgresServer.database()))
        }
    }

    static func dispatcher(_ url: String, store: any AggregatorStore, expiry: Duration = .seconds(3600))
        -> AlertDispatcher
    {
        var options = ReceiverFixture.fastOptions
        options.expiry = expiry
        options.poll = .milliseconds(50)
        return AlertDispatcher(
            config: ReceiverFixture.config(
                [.init(name: "ops", kind: .webhook(url: url, secret: nil))], routes: [.init(receiver: "ops")]),
            options: options, store: store)
    }

    /// Queues a round's notifications as the alert evaluator does: with the round's save.
    static func queue(_ round: AlertRound, through dispatcher: AlertDispatcher, in store: any AggregatorStore)
        async throws
    {
        let lease = try #require(try await store.acquireLease(holder: "test", ttl: .seconds(600)))
        let evaluation = AlertEngine.Evaluation(round: round, updated: [], dropped: [], changes: [])
        try await store.saveAlerts(
            evaluation, cursor: nil, at: round.at, lease: lease, notifications: dispatcher.notifications(for: round))
        await dispatcher.send(round)
    }

    @Test(arguments: Store.allCases)
    func aNotificationQueuedBeforeARestartIsDeliveredOnceAfterIt(_ kind: Store) async throws {
        let store = try await Self.open(kind)
        defer { Task { await store.close() } }
        let round = ReceiverFixture.round(changed: [ReceiverFixture.alert()])
        // The first process cannot reach the receiver, and stops with the notification pending.
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let first = Self.dispatcher("http://127.0.0.1:\(refusing.port)/hook", store: store)
        first.start()
        try await Self.queue(round, through: first, in: store)
        #expect(await eventually { first.counters.snapshot[0].retries >= 2 }, "retried while the receiver is away")
        await first.stop()
        #expect(try await store.pendingNotifications()["ops"] == 1)

        let requests = ReceivedRequests()
        try await ReceiverFixture.withReceiver(requests) { base in
            let second = Self.dispatcher(base + "/hook", store: store)
            second.start()
            let received = await requests.wait(for: 1, on: "/hook")
            #expect(received.count == 1)
            #expect(
                await eventually { second.counters.snapshot[0].sent == 1 && second.counters.snapshot[0].queued == 0 })
            // Saving the same round again (an evaluation retried after a lost commit answer) queues nothing.
            try await Self.queue(round, through: second, in: store)
            #expect(try await store.pendingNotifications()["ops"] ?? 0 == 0)
            await second.stop()
        }
        #expect(await requests.on("/hook").count == 1, "delivered once")
    }

    @Test(arguments: Store.allCases)
    func retriedPastFiveTriesInOrderUntilDelivered(_ kind: Store) async throws {
        let store = try await Self.open(kind)
        defer { Task { await store.close() } }
        let requests = ReceivedRequests(script: ["/hook": [503, 503, 503, 503, 503, 503, 503]])
        try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = Self.dispatcher(base + "/hook", store: store)
            dispatcher.start()
            let firing = ReceiverFixture.alert()
            var resolved = firing
            resolved.status = .resolved
            resolved.endsAt = Date()
            try await Self.queue(ReceiverFixture.round(changed: [firing]), through: dispatcher, in: store)
            try await Self.queue(
                ReceiverFixture.round(changed: [resolved]), through: dispatcher, in: store)
            let received = await requests.wait(for: 9, on: "/hook")
            #expect(received.count == 9, "seven refusals, then the firing, then the resolution")
            let statuses = received.compactMap { ($0.json as? [String: Any])?["status"] as? String }
            #expect(statuses == Array(repeating: "firing", count: 8) + ["resolved"], "never out of order: \(statuses)")
            let ids = received.map { $0.headers["sonda-delivery"] ?? "" }
            #expect(Set(ids.prefix(8)).count == 1 && ids[8] != ids[0] && ids[0].count == 32, "\(ids)")
            #expect(await eventually { dispatcher.counters.snapshot[0].sent == 2 })
            #expect(dispatcher.counters.snapshot[0].retries == 7)
            await dispatcher.stop()
        }
    }

    @Test(arguments: Store.allCases)
    func aNotificationOlderThanTheExpiryIsCountedAndNotSent(_ kind: Store) async throws {
        let store = try await Self.open(kind)
        defer { Task { await store.close() } }
        let requests = ReceivedRequests()
        try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = Self.dispatcher(base + "/hook", store: store, expiry: .seconds(60))
            try await Self.queue(
                ReceiverFixture.round(at: Date().addingTimeInterval(-3600), changed: [ReceiverFixture.alert()]),
                through: dispatcher, in: store)
            dispatcher.start()
            #expect(await eventually { dispatcher.counters.snapshot[0].expired == 1 })
            #expect(try await store.pendingNotifications()["ops"] ?? 0 == 0)
            await dispatcher.stop()
        }
        #expect(await requests.on("/hook").isEmpty)
    }

    @Test(arguments: Store.allCases)
    func twoSendersOnOneDatabaseSendEachNotificationOnce(_ kind: Store) async throws {
        let store = try await Self.open(kind)
        defer { Task { await store.close() } }
        let requests = ReceivedRequests()
        try await ReceiverFixture.withReceiver(requests) { base in
            let replicas = [
                Self.dispatcher(base + "/hook", store: store), Self.dispatcher(base + "/hook", store: store),
            ]
            for replica in replicas { replica.start() }
            let alerts = (0..<20).map { ReceiverFixture.alert(check: "check-\($0)") }
            for (i, alert) in alerts.enumerated() {
                try await Self.queue(
                    ReceiverFixture.round(at: Date().addingTimeInterval(Double(i - 20)), changed: [alert]),
                    through: replicas[i % 2], in: store)
            }
            let received = await requests.wait(for: 20, on: "/hook")
            #expect(received.count == 20)
            #expect(
                await eventually {
                    let pending = (try? await store.pendingNotifications()["ops"]) ?? 0
                    return replicas.map { $0.counters.snapshot[0].sent }.reduce(0, +) == 20 && pending == 0
                })
            for replica in replicas { await replica.stop() }
            let checks = received.compactMap { request -> String? in
                let alerts = (request.json as? [String: Any])?["alerts"] as? [[String: Any]]
                return (alerts?.first?["labels"] as? [String: String])?["check"]
            }
            #expect(Set(checks).count == 20, "each notification once: \(checks.sorted())")
        }
        #expect(await requests.on("/hook").count == 20)
    }
}

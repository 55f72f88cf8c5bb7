import Foundation
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaConfig
import SondaCore
import TestSupport
import Testing

@Suite struct DeliveryRetryTests {
    @Test func twoServiceUnavailableAnswersThenSuccessDeliversOnceWithTwoRetries() async throws {
        let requests = ReceivedRequests(script: ["/hook": [503, 503]])
        let status = try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = ReceiverFixture.startedWebhookDispatcher(base + "/hook", secret: "s")
            let alert = ReceiverFixture.alert()
            await dispatcher.send(ReceiverFixture.round(firing: [alert], changed: [alert]))
            #expect(await eventually(every: .milliseconds(10)) { dispatcher.counters.snapshot.first?.sent == 1 })
            await dispatcher.stop()
            return dispatcher.counters.snapshot
        }
        let tries = await requests.on("/hook")
        #expect(tries.count == 3)
        let ids = Set(tries.map { $0.headers["sonda-delivery"] })
        #expect(ids.count == 1 && ids.first??.count == 32, "every retry names the same notification: \(ids)")
        #expect(status.count == 1)
        #expect(status[0].sent == 1)
        #expect(status[0].retries == 2)
        #expect(status[0].failed == 0)
        #expect(status[0].queued == 0)
        #expect(status[0].lastSuccessAt != nil)
    }

    @Test func aDeadReceiverCountsFailuresAndDelaysNobodyElse() async throws {
        let requests = ReceivedRequests()
        let refusing = try RefusingPort()
        let dead = "http://127.0.0.1:\(refusing.port)/hook"
        defer { withExtendedLifetime(refusing) {} }
        let snapshot = try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = AlertDispatcher(
                config: ReceiverFixture.config(
                    [
                        .init(name: "pager", kind: .webhook(url: dead, secret: nil)),
                        .init(name: "chat", kind: .slack(url: base + "/slack")),
                    ],
                    routes: [.init(severities: [.critical], receiver: "pager"), .init(receiver: "chat")]),
                options: ReceiverFixture.fastOptions)
            dispatcher.start()
            let critical = ReceiverFixture.alert()
            let low = ReceiverFixture.alert("SondaDegraded", severity: "low")
            await dispatcher.send(ReceiverFixture.round(firing: [critical, low], changed: [critical, low]))
            await dispatcher.send(ReceiverFixture.round(firing: [critical, low], reminders: [critical, low]))
            #expect(
                await eventually(every: .milliseconds(10)) {
                    dispatcher.counters.snapshot.first { $0.receiver == "pager" }?.failed == 2
                })
            #expect(await requests.wait(for: 2, on: "/slack").count == 2, "chat is served while pager fails")
            await dispatcher.stop()
            return Dictionary(uniqueKeysWithValues: dispatcher.counters.snapshot.map { ($0.receiver, $0) })
        }
        let pager = try #require(snapshot["pager"])
        #expect(pager.kind == "webhook")
        #expect(pager.failed == 2)
        #expect(pager.sent == 0)
        #expect(pager.retries == 4, "2 requests × (3 attempts − 1)")
        #expect(pager.lastError?.contains("127.0.0.1") == true)
        #expect(pager.lastError?.contains("/hook") == false, "URLs are shown without their path")
        #expect(pager.lastErrorAt != nil)
        #expect(snapshot["chat"]?.sent == 2)
        #expect(snapshot["chat"]?.failed == 0)
    }

    @Test func aClientErrorIsNotRetried() async throws {
        let requests = ReceivedRequests(script: ["/hook": [400, 400]])
        let status = try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = ReceiverFixture.startedWebhookDispatcher(base + "/hook")
            let alert = ReceiverFixture.alert()
            await dispatcher.send(ReceiverFixture.round(firing: [alert], changed: [alert]))
            #expect(await eventually(every: .milliseconds(10)) { dispatcher.counters.snapshot.first?.failed == 1 })
            await dispatcher.stop()
            return try #require(dispatcher.counters.snapshot.first)
        }
        #expect(await requests.on("/hook").count == 1)
        #expect(status.retries == 0)
        #expect(status.lastError?.contains("answered 400: status 400") == true, "\(status.lastError ?? "nil")")
    }

    @Test func routesPickTheFirstMatchBySeverityAndLabels() async throws {
        let requests = ReceivedRequests()
        try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = AlertDispatcher(
                config: ReceiverFixture.config(
                    [
                        .init(name: "am", kind: .alertmanager(url: base + "/")),
                        .init(name: "tls", kind: .webhook(url: base + "/tls", secret: nil)),
                        .init(name: "chat", kind: .slack(url: base + "/chat")),
                    ],
                    routes: [
                        .init(matchers: ["alertname": "SondaTLSPolicy"], receiver: "tls"),
                        .init(severities: [.critical, .high], receiver: "am"),
                        .init(severities: [.low], receiver: "chat"),
                    ]),
                options: ReceiverFixture.fastOptions)
            dispatcher.start()
            let down = ReceiverFixture.alert("SondaDown", severity: "critical")
            let tls = ReceiverFixture.alert("SondaTLSPolicy", severity: "critical", check: "auth-health")
            let degraded = ReceiverFixture.alert("SondaDegraded", severity: "low")
            let silent = ReceiverFixture.alert("SondaAgentSilent", severity: "medium")
            let all = [down, tls, degraded, silent]
            await dispatcher.send(ReceiverFixture.round(firing: all, changed: all))
            let am = await requests.wait(for: 1, on: "/api/v2/alerts")
            let hook = await requests.wait(for: 1, on: "/tls")
            let chat = await requests.wait(for: 1, on: "/chat")
            await dispatcher.stop()
            let names = (am.first?.json as? [[String: Any]])?.compactMap {
                ($0["labels"] as? [String: String])?["alertname"]
            }
            #expect(names == ["SondaDown"])
            let hookAlerts = (hook.first?.json as? [String: Any])?["alerts"] as? [[String: Any]]
            #expect(hookAlerts?.compactMap { ($0["labels"] as? [String: String])?["alertname"] } == ["SondaTLSPolicy"])
            #expect((chat.first?.json as? [String: String])?["text"]?.contains("SondaDegraded") == true)
            #expect(
                (chat.first?.json as? [String: String])?["text"]?.contains("SondaAgentSilent") == false,
                "medium matches no route")
            #expect(await requests.requests.count == 3)
        }
    }

    @Test func stopGivesQueuedNotificationsOneLastTryWithoutBackoff() async throws {
        let requests = ReceivedRequests(script: ["/hook": Array(repeating: 503, count: 100)])
        try await ReceiverFixture.withReceiver(requests) { base in
            var options = ReceiverFixture.fastOptions
            options.attempts = 50
            options.backoff = Backoff(base: .seconds(30), cap: .seconds(30))
            options.drainTimeout = .seconds(20)
            let dispatcher = ReceiverFixture.startedWebhookDispatcher(base + "/hook", options: options)
            for index in 0..<3 {
                let alert = ReceiverFixture.alert(check: "check-\(index)")
                await dispatcher.send(ReceiverFixture.round(firing: [alert], changed: [alert]))
            }
            // The first request failed once and waits out its backoff (15 to 30 s).
            #expect(await eventually(every: .milliseconds(10)) { dispatcher.counters.snapshot.first?.retries == 1 })
            let started = ContinuousClock.now
            await dispatcher.stop()
            // Waiting it out would take 15 s or more, or the 20 s drain timeout; anything well
            // below that shows that stop ended it, however busy the machine.
            let took = ContinuousClock.now - started
            #expect(took < .seconds(10), "stop ends the backoff instead of waiting it out: took \(took)")
            let status = try #require(dispatcher.counters.snapshot.first)
            #expect(status.sent == 0)
            #expect(status.failed == 3, "each queued request gets one last try")
            #expect(status.dropped == 0)
            #expect(status.queued == 0)
            #expect(await requests.on("/hook").count == 4, "the first twice, the others once")
            // Rounds after stop are counted, not lost silently.
            await dispatcher.send(ReceiverFixture.round(changed: [ReceiverFixture.alert(check: "late")]))
            #expect(dispatcher.counters.snapshot.first?.dropped == 1)
        }
    }

    @Test func stopAbandonsAHangingReceiverWithinItsBound() async throws {
        let requests = ReceivedRequests(script: ["/hook": [0, 0, 0]])
        try await ReceiverFixture.withReceiver(requests) { base in
            var options = ReceiverFixture.fastOptions
            options.requestTimeout = .seconds(2)
            options.drainTimeout = .milliseconds(500)
            let dispatcher = ReceiverFixture.startedWebhookDispatcher(base + "/hook", options: options)
            for index in 0..<3 {
                let alert = ReceiverFixture.alert(check: "check-\(index)")
                await dispatcher.send(ReceiverFixture.round(firing: [alert], changed: [alert]))
            }
            _ = await requests.wait(for: 1, on: "/hook")
            let started = ContinuousClock.now
            await dispatcher.stop()
            // Bounded: the drain timeout, then at most the request in flight (2.5 s). Not bounded:
            // each of the three requests hangs until its timeout (6 s).
            let took = ContinuousClock.now - started
            #expect(took < .seconds(5), "bounded by drainTimeout + requestTimeout, took \(took)")
            let status = try #require(dispatcher.counters.snapshot.first)
            #expect(status.sent == 0)
            #expect(status.failed + status.dropped == 3, "\(status)")
            #expect(status.queued == 0)
        }
    }

    @Test func metricsShowDeliveriesPerReceiverAndResult() async throws {
        let f = try IngestFixture()
        let requests = ReceivedRequests(script: ["/hook": [503]])
        let counters = DeliveryCounters()
        try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = AlertDispatcher(
                config: ReceiverFixture.config(
                    [
                        .init(name: "ops", kind: .webhook(url: base + "/hook", secret: nil)),
                        .init(name: "chat", kind: .slack(url: base + "/chat")),
                    ],
                    routes: [.init(severities: [.critical], receiver: "ops"), .init(receiver: "chat")]),
                options: ReceiverFixture.fastOptions, counters: counters)
            dispatcher.start()
            let alerts = [ReceiverFixture.alert(), ReceiverFixture.alert("SondaDegraded", severity: "low")]
            await dispatcher.send(ReceiverFixture.round(firing: alerts, changed: alerts))
            _ = await eventually(every: .milliseconds(10)) {
                counters.snapshot.allSatisfy { $0.queued == 0 && $0.sent + $0.failed == 1 }
            }
            await dispatcher.stop()
        }
        let config = f.config
        let store = f.store
        let app = Application(router: AggregatorRouter(config: config, store: store, deliveries: counters).build())
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: response.body)
            #expect(text.contains("# TYPE sonda_alert_notifications_total counter"))
            #expect(
                text.contains(#"sonda_alert_notifications_total{receiver="ops",kind="webhook",result="sent"} 1"#),
                "\(text)")
            #expect(text.contains(#"sonda_alert_notifications_total{receiver="chat",kind="slack",result="sent"} 1"#))
            #expect(text.contains(#"sonda_alert_delivery_retries_total{receiver="ops",kind="webhook"} 1"#))
            #expect(text.contains(#"sonda_alert_queue_depth{receiver="chat",kind="slack"} 0"#))
            #expect(text.contains(#"sonda_alert_last_success_timestamp_seconds{receiver="ops",kind="webhook"} 1"#))
            #expect(text.contains("sonda_ingest_batches_total 0"), "the ingest series are still there")
        }
    }
}

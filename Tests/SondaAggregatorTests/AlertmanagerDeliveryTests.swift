import Foundation
import SondaAggregator
import SondaConfig
import SondaCore
import Testing

@Suite struct AlertmanagerDeliveryTests {
    @Test func firingAlertsAreResentEveryMinuteWithAFourMinuteLeaseAndResolvedAtOnce() async throws {
        let requests = ReceivedRequests()
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        let received = try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = AlertDispatcher(
                config: ReceiverFixture.config(
                    [.init(name: "am", kind: .alertmanager(url: base))], routes: [.init(receiver: "am")]),
                options: ReceiverFixture.fastOptions)
            dispatcher.start()
            let alert = ReceiverFixture.alert(startsAt: t0)
            await dispatcher.send(ReceiverFixture.round(at: t0, firing: [alert], changed: [alert]))
            await dispatcher.send(ReceiverFixture.round(at: t0 + 15, firing: [alert]))
            await dispatcher.send(ReceiverFixture.round(at: t0 + 30, firing: [alert], reminders: [alert]))
            await dispatcher.send(ReceiverFixture.round(at: t0 + 61, firing: [alert]))
            var resolved = alert
            resolved.status = .resolved
            resolved.endsAt = t0 + 70
            await dispatcher.send(ReceiverFixture.round(at: t0 + 75, changed: [resolved]))
            let all = await requests.wait(for: 3, on: "/api/v2/alerts")
            await dispatcher.stop()
            return all
        }
        try #require(received.count == 3, "the rounds at +15 s and +30 s send nothing")
        let posted = try received.map { try #require($0.json as? [[String: Any]]) }
        #expect(posted.map(\.count) == [1, 1, 1])
        func date(_ request: Int, _ key: String) -> Date? {
            (posted[request][0][key] as? String).flatMap(Timestamp.parse)
        }
        #expect(date(0, "startsAt") == t0)
        #expect(date(0, "endsAt") == t0 + 240)
        #expect(date(1, "endsAt") == t0 + 61 + 240)
        #expect(date(2, "endsAt") == t0 + 70)
        #expect(posted[0][0]["generatorURL"] as? String == "https://sonda.example.com.br/checks/booking-slots")
        #expect(posted[0][0]["labels"] as? [String: String] == ReceiverFixture.alert().labels)
        #expect((posted[0][0]["annotations"] as? [String: String])?["summary"] == "booking-slots failing in sao_paulo")
        #expect(posted[0][0]["status"] == nil && posted[0][0]["fingerprint"] == nil, "only Alertmanager's fields")
    }
}

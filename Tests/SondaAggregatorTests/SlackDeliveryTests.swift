import Foundation
import SondaAggregator
import SondaConfig
import Testing

@Suite struct SlackDeliveryTests {
    @Test func firingAndResolvedMessagesNameTheAlertAndLinkToTheStatusPage() async throws {
        let requests = ReceivedRequests()
        let received = try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = AlertDispatcher(
                config: ReceiverFixture.config(
                    [.init(name: "chat", kind: .slack(url: base + "/services/T000/B000/XXXX"))],
                    routes: [.init(receiver: "chat")]),
                options: ReceiverFixture.fastOptions)
            dispatcher.start()
            let alert = ReceiverFixture.alert(severity: "low", check: "booking <slots>")
            await dispatcher.send(ReceiverFixture.round(firing: [alert], changed: [alert]))
            // Delivery is at least once: a retry of the firing message is the same notification.
            _ = await requests.wait(forDeliveries: 1, on: "/services/T000/B000/XXXX")
            var resolved = alert
            resolved.status = .resolved
            await dispatcher.send(ReceiverFixture.round(changed: [resolved]))
            let all = await requests.wait(forDeliveries: 2, on: "/services/T000/B000/XXXX")
            await dispatcher.stop()
            return all
        }
        try #require(received.count == 2)
        let bodies = try received.map { try #require($0.json as? [String: String]) }
        #expect(bodies.allSatisfy { $0.keys.sorted() == ["text"] })
        let firing = try #require(bodies[0]["text"])
        #expect(firing.hasPrefix(":large_yellow_circle: *FIRING* SondaDown (low)\n"), "\(firing)")
        #expect(firing.contains("booking &lt;slots&gt; failing in sao_paulo"), "Slack's control characters are escaped")
        #expect(firing.contains("check `booking &lt;slots&gt;`"))
        #expect(firing.contains("region `sao_paulo`"))
        #expect(firing.contains("<https://sonda.example.com.br/checks/booking%20%3Cslots%3E|status page>"), "\(firing)")
        let resolvedText = try #require(bodies[1]["text"])
        #expect(resolvedText.hasPrefix(":white_check_mark: *RESOLVED* SondaDown (low)"), "\(resolvedText)")
    }
}

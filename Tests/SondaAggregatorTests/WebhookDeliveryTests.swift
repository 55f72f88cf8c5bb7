import Crypto
import Foundation
import SondaAggregator
import SondaConfig
import Testing

@Suite struct WebhookDeliveryTests {
    /// What a receiver does with `Sonda-Signature` (the recipe in WebhookPayload.swift and
    /// deploy/README.md), written independently of the sender.
    static func verifies(header: String, body: Data, secret: String) -> Bool {
        let fields = Dictionary(
            header.split(separator: ",").compactMap { part -> (String, String)? in
                let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
                return pair.count == 2 ? (pair[0], pair[1]) : nil
            }, uniquingKeysWith: { $1 })
        guard let t = fields["t"], let sig = fields["sig"], sig.count == 64 else { return false }
        let expected = HMAC<SHA256>.authenticationCode(
            for: Data("\(t).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        return expected.map { String(format: "%02x", $0) }.joined() == sig
    }

    @Test func signedBodyVerifiesWithTheSecretAndATamperedBodyDoesNot() async throws {
        let requests = ReceivedRequests()
        let secret = "whsec-\(UUID().uuidString)"
        let before = Int(Date().timeIntervalSince1970)
        let request = try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = ReceiverFixture.startedWebhookDispatcher(base + "/hook", secret: secret)
            let alert = ReceiverFixture.alert()
            await dispatcher.send(ReceiverFixture.round(firing: [alert], changed: [alert]))
            let received = await requests.wait(for: 1, on: "/hook")
            await dispatcher.stop()
            return try #require(received.first)
        }
        let after = Int(Date().timeIntervalSince1970)
        let header = try #require(request.headers["sonda-signature"])
        #expect(header.hasPrefix("t="))
        let t = try #require(Int(header.dropFirst(2).prefix { $0 != "," }))
        #expect((before...after).contains(t), "the signature's time is the sending time")
        #expect(Self.verifies(header: header, body: request.body, secret: secret))
        #expect(
            !Self.verifies(header: header, body: request.body, secret: secret + "x"), "another secret must not verify")
        var tampered = request.body
        tampered[tampered.count / 2] ^= 0x01
        #expect(!Self.verifies(header: header, body: tampered, secret: secret), "a changed body must not verify")
        #expect(request.headers["content-type"] == "application/json")

        let json = try #require(request.json as? [String: Any])
        #expect(json["version"] as? String == "1")
        #expect(json["status"] as? String == "firing")
        let alerts = try #require(json["alerts"] as? [[String: Any]])
        #expect(alerts.count == 1)
        #expect((alerts[0]["labels"] as? [String: String])?["alertname"] == "SondaDown")
        #expect((alerts[0]["annotations"] as? [String: String])?["summary"] == "booking-slots failing in sao_paulo")
        #expect(alerts[0]["status"] as? String == "firing")
        #expect((alerts[0]["startsAt"] as? String)?.hasSuffix("Z") == true)
        #expect(alerts[0]["generatorURL"] as? String == "https://sonda.example.com.br/checks/booking-slots")
    }

    @Test func withoutASecretNothingIsSignedAndResolvedAndRemindersAreSent() async throws {
        let requests = ReceivedRequests()
        let received = try await ReceiverFixture.withReceiver(requests) { base in
            let dispatcher = ReceiverFixture.startedWebhookDispatcher(base + "/hook")
            let down = ReceiverFixture.alert()
            let cert = ReceiverFixture.alert("SondaCertExpiry", severity: "high", check: "auth-health")
            // Firing alerts that neither changed nor are due for a reminder are not sent again.
            // Counted by `Sonda-Delivery`: on a loaded machine a slow answer can be retried.
            await dispatcher.send(ReceiverFixture.round(firing: [down, cert], changed: [down, cert]))
            _ = await requests.wait(forDeliveries: 1, on: "/hook")
            await dispatcher.send(ReceiverFixture.round(firing: [down, cert]))
            await dispatcher.send(ReceiverFixture.round(firing: [cert], reminders: [cert]))
            _ = await requests.wait(forDeliveries: 2, on: "/hook")
            var resolved = down
            resolved.status = .resolved
            resolved.endsAt = Date()
            await dispatcher.send(ReceiverFixture.round(firing: [cert], changed: [resolved]))
            let all = await requests.wait(forDeliveries: 3, on: "/hook")
            await dispatcher.stop()
            return all
        }
        #expect(received.count == 3)
        #expect(received.allSatisfy { $0.headers["sonda-delivery"]?.count == 32 })
        #expect(received.allSatisfy { $0.headers["sonda-signature"] == nil })
        let bodies = received.compactMap { $0.json as? [String: Any] }
        #expect(bodies.map { ($0["alerts"] as? [Any])?.count } == [2, 1, 1])
        #expect(bodies.map { $0["status"] as? String } == ["firing", "firing", "resolved"])
        let last = try #require((bodies.last?["alerts"] as? [[String: Any]])?.first)
        #expect(last["endsAt"] is String)
    }
}

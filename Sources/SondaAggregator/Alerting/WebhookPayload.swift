import Crypto
import Foundation
import SondaCore

/// The generic webhook's body, `{"version":"1","status":"firing|resolved","alerts":[…]}` (status
/// is firing when any alert in the message is), and its signature header.
///
/// With a secret, each request carries `Sonda-Signature: t=<unix seconds>,sig=<hex>` where sig is
/// HMAC-SHA256(secret, "<t>." + body). A receiver verifies it so:
///   1. split the header on "," and "=" into t and sig;
///   2. compute HMAC-SHA256 with the shared secret over the bytes of t, ".", and the raw body
///      exactly as received (before any JSON parsing), and hex-encode it;
///   3. compare with sig in constant time, and refuse t more than 5 minutes from the clock
///      (replays).
/// In Python: `hmac.compare_digest(hmac.new(secret, f"{t}.".encode() + body, "sha256").hexdigest(), sig)`.
enum WebhookPayload {
    static let signatureHeader = "Sonda-Signature"

    struct Message: Codable {
        var version = "1"
        var status: AlertNotification.Status
        var alerts: [AlertNotification]
    }

    static func body(_ alerts: [AlertNotification]) throws -> Data {
        let status: AlertNotification.Status = alerts.contains { $0.status == .firing } ? .firing : .resolved
        return try ResultJSON.encoder().encode(Message(status: status, alerts: alerts))
    }

    static func signature(body: Data, secret: String, at: Date) -> String {
        let t = Int(at.timeIntervalSince1970)
        return "t=\(t),sig=\(hmac(Data("\(t).".utf8) + body, secret: secret))"
    }

    static func hmac(_ data: Data, secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: data, using: key(secret)).map { String(format: "%02x", $0) }.joined()
    }

    private static func key(_ secret: String) -> SymmetricKey { SymmetricKey(data: Data(secret.utf8)) }
}

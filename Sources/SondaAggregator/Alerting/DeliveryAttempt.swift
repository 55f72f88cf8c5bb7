import Foundation

/// One POST of a notification body to a receiver, and what the answer means: delivered (2xx),
/// worth retrying (a network error or timeout, 408, 429, 5xx), or refused for good (any other
/// status: a wrong URL or token does not fix itself).
enum DeliveryAttempt {
    enum Outcome: Sendable, Equatable {
        case delivered
        case retry(String)
        case refused(String)
    }

    static func post(
        _ url: String, body: Data, headers: [String: String], timeout: Duration, client: OutboundHTTP
    ) async -> Outcome {
        guard let target = URL(string: url), let scheme = target.scheme, ["http", "https"].contains(scheme) else {
            return .refused("not an http(s) URL: \(redacted(url))")
        }
        let answer: OutboundHTTP.Answer
        do {
            answer = try await client.send(
                .POST, url, headers: [("Content-Type", "application/json")] + headers.map { ($0.key, $0.value) },
                body: Array(body), timeout: timeout, keep: .prefix(200))
        } catch {
            return .retry("\(redacted(url)): \(error)")
        }
        let status = answer.status
        if (200..<300).contains(status) { return .delivered }
        let text = String(decoding: answer.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = "\(redacted(url)) answered \(status)" + (text.isEmpty ? "" : ": \(text)")
        return status == 408 || status == 429 || status >= 500 ? .retry(reason) : .refused(reason)
    }

    /// The URL without its path and query, which for Slack and many webhooks hold the secret.
    static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return "<invalid URL>" }
        return "\(components.scheme ?? "http")://\(host)\(components.port.map { ":\($0)" } ?? "")/…"
    }
}

import Foundation
import SondaCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
        _ url: String, body: Data, headers: [String: String], timeout: Duration, session: URLSession
    ) async -> Outcome {
        guard let target = URL(string: url), let scheme = target.scheme, ["http", "https"].contains(scheme) else {
            return .refused("not an http(s) URL: \(redacted(url))")
        }
        var request = URLRequest(url: target, timeoutInterval: timeout.milliseconds / 1000)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("sonda-aggregator/\(SondaVersion.current)", forHTTPHeaderField: "User-Agent")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            return .retry("\(redacted(url)): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if (200..<300).contains(status) { return .delivered }
        let answer = String(decoding: data.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = "\(redacted(url)) answered \(status)" + (answer.isEmpty ? "" : ": \(answer)")
        return status == 408 || status == 429 || status >= 500 ? .retry(reason) : .refused(reason)
    }

    /// The URL without its path and query, which for Slack and many webhooks hold the secret.
    static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return "<invalid URL>" }
        return "\(components.scheme ?? "http")://\(host)\(components.port.map { ":\($0)" } ?? "")/…"
    }
}

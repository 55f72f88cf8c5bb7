import Foundation
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaConfig
import SondaCore
import TestSupport

/// A local HTTP receiver for alert delivery tests: a Hummingbird app on a loopback port that
/// records every POST (path, headers, raw body) and answers with scripted statuses, then 200.
actor ReceivedRequests {
    struct Request: Sendable {
        var path: String
        /// Lowercase names.
        var headers: [String: String]
        var body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    }

    private(set) var requests: [Request] = []
    private var script: [String: [Int]]

    /// `script[path]`: the statuses to answer on that path, in order, before answering 200;
    /// 0 answers 200 after 5 s (a receiver that hangs).
    init(script: [String: [Int]] = [:]) { self.script = script }

    func record(_ request: Request) -> Int {
        requests.append(request)
        guard var statuses = script[request.path], !statuses.isEmpty else { return 200 }
        let status = statuses.removeFirst()
        script[request.path] = statuses
        return status
    }

    func on(_ path: String) -> [Request] { requests.filter { $0.path == path } }

    /// The first request of each notification on `path` (by `Sonda-Delivery`): delivery is at
    /// least once, so a retry whose first try arrived late is the same notification again.
    func deliveries(on path: String) -> [Request] {
        var seen = Set<String>()
        return on(path).filter { seen.insert($0.headers["sonda-delivery"] ?? "").inserted }
    }

    /// Waits until `path` has received `count` distinct notifications, or `timeout`.
    func wait(forDeliveries count: Int, on path: String, timeout: Duration = generousTimeout) async -> [Request] {
        let deadline = ContinuousClock.now + timeout
        while deliveries(on: path).count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return deliveries(on: path)
    }

    /// Waits (without blocking a thread) until `path` has received `count` requests, or `timeout`.
    func wait(for count: Int, on path: String, timeout: Duration = generousTimeout) async -> [Request] {
        let deadline = ContinuousClock.now + timeout
        while on(path).count < count, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return on(path)
    }
}

enum ReceiverFixture {
    /// Runs a recording receiver on a free loopback port for the duration of `body`.
    static func withReceiver<T: Sendable>(
        _ requests: ReceivedRequests, _ body: @Sendable (_ base: String) async throws -> T
    ) async throws -> T {
        let router = Router()
        router.post("**") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            var status = await requests.record(
                .init(path: request.uri.path, headers: headers, body: Data(buffer: bytes)))
            if status == 0 {
                try? await Task.sleep(for: .seconds(5))
                status = 200
            }
            return Response(
                status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: "status \(status)")))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)") }
    }

    /// Short backoffs so retry tests take milliseconds; a request timeout that a loaded machine's
    /// slow answer does not reach (it would count as a failure and a retry, and a notification
    /// delivered twice): the receiver answers from this test process's busy pool.
    static var fastOptions: AlertDispatcher.Options {
        var options = AlertDispatcher.Options()
        options.attempts = 3
        options.backoff = Backoff(base: .milliseconds(10), cap: .milliseconds(40))
        options.requestTimeout = generousTimeout
        options.drainTimeout = .seconds(2)
        return options
    }

    static func alert(
        _ name: String = "SondaDown", severity: String = "critical", check: String = "booking-slots",
        region: String = "sao_paulo", status: AlertNotification.Status = .firing, startsAt: Date = Date(),
        endsAt: Date? = nil
    ) -> AlertNotification {
        let labels = ["alertname": name, "severity": severity, "check": check, "region": region]
        return AlertNotification(
            fingerprint: labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            status: status, labels: labels,
            annotations: [
                "summary": "\(check) failing in \(region)", "description": "connect_refused from 2 of 3 agents",
            ],
            startsAt: startsAt, endsAt: endsAt, generatorURL: "")
    }

    static func round(
        at: Date = Date(), firing: [AlertNotification] = [], changed: [AlertNotification] = [],
        reminders: [AlertNotification] = []
    ) -> AlertRound {
        AlertRound(at: at, firing: firing, changed: changed, reminders: reminders)
    }

    static func config(_ receivers: [AlertingConfig.Receiver], routes: [AlertingConfig.Route]) -> AlertingConfig {
        var config = AlertingConfig()
        config.receivers = receivers
        config.routes = routes
        config.externalURL = "https://sonda.example.com.br"
        return config
    }

    /// A started dispatcher with one webhook receiver, "ops", at `url`, that every alert goes to.
    static func startedWebhookDispatcher(
        _ url: String, secret: String? = nil, options: AlertDispatcher.Options = fastOptions
    ) -> AlertDispatcher {
        let dispatcher = AlertDispatcher(
            config: config([.init(name: "ops", kind: .webhook(url: url, secret: secret))], routes: [.init(receiver: "ops")]),
            options: options)
        dispatcher.start()
        return dispatcher
    }
}

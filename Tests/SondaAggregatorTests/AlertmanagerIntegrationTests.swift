import Foundation
import SondaAggregator
import SondaConfig
import SondaCore
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The dispatcher against a real Prometheus Alertmanager (Debian's `prometheus-alertmanager`,
/// which `make test` installs), started on a loopback port with its own storage.
@Suite struct AlertmanagerIntegrationTests {
    static let binary = "/usr/bin/prometheus-alertmanager"

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: binary),
            "needs \(binary): apt-get install prometheus-alertmanager (make test does)"))
    func firingAlertArrivesWithItsLabelsAndIsResolvedLater() async throws {
        let directory = NSTemporaryDirectory() + "sonda-am-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        route: {receiver: blackhole, group_by: [alertname, check], group_wait: 1s}
        receivers: [{name: blackhole}]
        """.write(toFile: directory + "/alertmanager.yml", atomically: true, encoding: .utf8)
        let (alertmanager, port) = try await startListening { port in
            try BackgroundProcess(
                Self.binary,
                [
                    "--config.file=\(directory)/alertmanager.yml", "--storage.path=\(directory)/data",
                    "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
                ])
        }
        let base = "http://127.0.0.1:\(port)"
        defer { alertmanager.signal(SIGKILL) }
        let ready = await eventually { await AlertmanagerAPI.get(base + "/-/ready") != nil }
        try #require(ready, "Alertmanager did not become ready: \(alertmanager.log)")

        let dispatcher = AlertDispatcher(
            config: ReceiverFixture.config(
                [.init(name: "am", kind: .alertmanager(url: base))],
                routes: [.init(severities: [.critical], receiver: "am")]),
            options: ReceiverFixture.fastOptions)
        dispatcher.start()
        let check = "booking-\(UUID().uuidString.prefix(8).lowercased())"
        let started = Date()
        let alert = ReceiverFixture.alert(check: check, startsAt: started)
        await dispatcher.send(ReceiverFixture.round(at: started, firing: [alert], changed: [alert]))

        var found: [String: Any]?
        _ = await eventually {
            found = await AlertmanagerAPI.alerts(base)?.first { ($0["labels"] as? [String: String])?["check"] == check }
            return found != nil
        }
        let active = try #require(found, "the alert never reached Alertmanager: \(dispatcher.counters.snapshot)")
        let labels = active["labels"] as? [String: String]
        #expect(labels?["alertname"] == "SondaDown")
        #expect(labels?["severity"] == "critical")
        #expect(labels?["region"] == "sao_paulo")
        let annotations = active["annotations"] as? [String: String]
        #expect(annotations?["summary"] == "\(check) failing in sao_paulo")
        #expect(annotations?["description"] == "connect_refused from 2 of 3 agents")
        #expect((active["status"] as? [String: Any])?["state"] as? String == "active")
        #expect(active["generatorURL"] as? String == "https://sonda.example.com.br/checks/\(check)")
        let endsAt = (active["endsAt"] as? String).flatMap(Timestamp.parse)
        #expect(endsAt.map { $0.timeIntervalSince(started) > 200 } == true, "endsAt leases the alert for 4 minutes")
        #expect(dispatcher.counters.snapshot.first?.sent == 1)

        var resolved = alert
        resolved.status = .resolved
        resolved.endsAt = Date()
        await dispatcher.send(ReceiverFixture.round(changed: [resolved]))
        // Alertmanager's API lists only unresolved alerts: a resolved one disappears long before
        // its four-minute lease would have run out.
        let gone = await eventually {
            guard let all = await AlertmanagerAPI.alerts(base) else { return false }
            return !all.contains { ($0["labels"] as? [String: String])?["check"] == check }
        }
        let remaining = await AlertmanagerAPI.alerts(base) ?? []
        #expect(gone, "Alertmanager still reports the alert: \(remaining)")
        await dispatcher.stop()
        #expect(dispatcher.counters.snapshot.first?.sent == 2)
        #expect(dispatcher.counters.snapshot.first?.failed == 0)
        alertmanager.signal(SIGTERM)
        #expect(await alertmanager.wait() != nil)
    }
}

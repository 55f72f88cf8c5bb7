import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SondaAggregator

/// A receiver that stopped answering shows in `GET /v1/alerts` and under `sonda-aggregator alerts`,
/// where people look when they wonder why nobody was paged.
@Suite struct AlertDeliveryStatusTests {
    @Test func failuresPerReceiverAreListedWithTheAlerts() async throws {
        let f = try IngestFixture()
        let deliveries = DeliveryCounters()
        deliveries.register("pager", kind: "alertmanager")
        deliveries.update("pager") { s in
            s.sent = 3
            s.failed = 2
            s.retries = 8
            s.lastError = "connection refused"
            s.lastErrorAt = Date(timeIntervalSince1970: 1_795_000_000)
        }
        let app = Application(router: AggregatorRouter(config: f.config, store: f.store, deliveries: deliveries).build())
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/alerts", method: .get)
            #expect(response.status == .ok)
            let list = try JSONDecoder().decode(AlertList.self, from: Data(buffer: response.body))
            let pager = try #require(list.receivers?.first)
            #expect(pager.receiver == "pager" && pager.kind == "alertmanager")
            #expect(pager.sent == 3 && pager.failed == 2 && pager.retries == 8)
            #expect(pager.lastError == "connection refused" && pager.lastErrorAt == "2026-11-18T11:06:40.000Z")
            let table = ReportTables.alerts(list, colour: false)
            #expect(table.hasPrefix("no alerts\n"))
            #expect(table.contains("receiver  kind          sent  failed  retries  queued  last error"), "\(table)")
            #expect(table.contains("pager     alertmanager     3       2        8       0  connection refused (2026-11-18T11:06:40)"), "\(table)")
        }
    }
}

import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import Testing

@Suite struct UptimeAndAuditTests {
    @Test func availabilityErrorBudgetAndBurnRates() async throws {
        let f = try IngestFixture()
        // 1000 results over the last 50 minutes; 4 failed in the last 5 minutes.
        let results = (0..<1000).map { i -> ProbeResult in
            let age = Double(i) * 3
            let failed = i < 4
            return IngestFixture.result(
                check: "auth-health", totalMilliseconds: 20, error: failed ? ProbeError(.connectRefused, "refused") : nil,
                at: f.now.addingTimeInterval(-age))
        }
        let body = try f.body(f.batch(results: results))
        try await f.application().test(.router) { client in
            #expect(try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            let response = try await client.execute(uri: "/v1/uptime?window=1h", method: .get)
            let report = try JSONDecoder().decode(UptimeReport.self, from: Data(buffer: response.body))
            let entry = try #require(report.checks.first)
            #expect(entry.check == "auth-health" && entry.region == "sao_paulo")
            #expect(entry.total == 1000 && entry.failed == 4)
            #expect(abs(try #require(entry.availability) - 0.996) < 1e-9)
            // 0.4 % errors against 0.1 % allowed: 4× the budget spent.
            #expect(abs(entry.errorBudgetLeft - (1 - 4)) < 1e-9)
            #expect(abs(entry.burnRates["1h"]! - 4) < 1e-9)
            #expect(entry.burnRates["5m"]! > 14.4, "all 4 failures fall in the last 5 minutes")
        }
    }

    @Test func longWindowsReadHourRollupsAndTheSLOWindowCountsOldFailures() async throws {
        let f = try IngestFixture()
        let old = (0..<10).map { i in
            IngestFixture.result(
                check: "auth-health", totalMilliseconds: 300, error: i < 5 ? ProbeError(.timeout, "timed out") : nil,
                at: f.now.addingTimeInterval(-3 * 86_400 - Double(i)))
        }
        let recent = (0..<90).map { IngestFixture.result(check: "auth-health", totalMilliseconds: 100, at: f.now.addingTimeInterval(-Double($0))) }
        let body = try f.body(f.batch(results: old + recent))
        try await f.application().test(.router) { client in
            #expect(try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            let uptime = try await client.execute(uri: "/v1/uptime?window=7d", method: .get)
            let week = try #require(try JSONDecoder().decode(UptimeReport.self, from: Data(buffer: uptime.body)).checks.first)
            #expect(week.total == 100 && week.failed == 5)
            #expect(abs(week.errorBudgetLeft - (1 - 0.05 / 0.001)) < 1e-9)
            #expect(week.burnRates["1h"] == 0)
            let hour = try await client.execute(uri: "/v1/uptime?window=1h", method: .get)
            #expect(try JSONDecoder().decode(UptimeReport.self, from: Data(buffer: hour.body)).checks.first?.total == 90)
            let budgets = try await client.execute(uri: "/v1/budgets?window=7d", method: .get)
            let cell = try #require(try JSONDecoder().decode(BudgetReport.self, from: Data(buffer: budgets.body)).cells.first)
            #expect(cell.count == 95, "successful results only, from the hour rollups")
            #expect(abs(try #require(cell.p99) - 300) / 300 < 0.01)
            for path in ["/v1/budgets?window=30d", "/v1/uptime?window=30d"] {
                let month = try await client.execute(uri: path, method: .get)
                let text = String(buffer: month.body)
                #expect(text.contains(path.contains("budgets") ? #""count":95"# : #""total":100"#), "from the day rollups: \(text)")
            }
        }
    }

    @Test func auditVerifyNamesTheFirstTamperedEntry() async throws {
        let f = try IngestFixture()
        try await f.application().test(.router) { client in
            for i in 0..<3 {
                let body = try f.body(f.batch(results: [IngestFixture.result(totalMilliseconds: Double(i + 1), at: f.now)]))
                #expect(try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            }
        }
        let intact = try await f.store.verifyAudit()
        #expect(intact.entries == 3 && intact.firstBroken == nil)
        try await f.store.pool.write { db in
            try db.execute(sql: "UPDATE audit SET detail = replace(detail, 'results=1', 'results=2') WHERE seq = 2")
        }
        let broken = try await f.store.verifyAudit()
        #expect(broken.firstBroken?.seq == 2)
    }

    @Test func resultsArePagedNewestFirst() async throws {
        let f = try IngestFixture()
        let results = (0..<25).map { IngestFixture.result(check: "paged", totalMilliseconds: 10, at: f.now.addingTimeInterval(-Double($0))) }
        let body = try f.body(f.batch(results: results))
        try await f.application().test(.router) { client in
            #expect(try await client.post(body, signature: try f.signature(for: body, agent: "sp-clinic-01")).status == .ok)
            var seen: [String] = []
            var uri = "/v1/checks/paged/results?limit=10"
            while true {
                let page = try await client.execute(uri: uri, method: .get)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: page.body)) as? [String: Any])
                let items = try #require(object["results"] as? [[String: Any]])
                seen += items.compactMap { $0["id"] as? String }
                guard let next = object["next"] as? String else { break }
                uri = "/v1/checks/paged/results?limit=10&before=\(next)"
            }
            #expect(seen == results.map(\.id))
        }
    }

    @Test func pruningRemovesRawResultsPastRetention() async throws {
        let f = try IngestFixture()
        let old = IngestFixture.result(totalMilliseconds: 5, at: f.now.addingTimeInterval(-15 * 86_400))
        let fresh = IngestFixture.result(totalMilliseconds: 5, at: f.now)
        _ = try await f.store.write(f.batch(results: [old, fresh]), region: "sao_paulo")
        let removed = try await f.store.prune(
            rawBefore: f.now.addingTimeInterval(-14 * 86_400), rollupsBefore: f.now.addingTimeInterval(-400 * 86_400))
        #expect(removed == 1)
    }
}

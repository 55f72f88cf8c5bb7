import Foundation
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// Every read the API and the status page make of a store holding the status page fixture, as
/// text by name: two stores holding the same data must give the same answers (SQLite is the
/// reference; PostgreSQL, and a copy made by `migrate`, are held to it).
enum StoreAnswers {
    static func of(_ store: any AggregatorStore, fixture f: IngestFixture) async throws -> [String: String] {
        let page = StatusPage(config: f.config, store: store, now: { f.now })
        var answers: [String: String] = [:]
        for window in ["1h", "24h", "7d", "30d"] {
            answers["fleet \(window)"] = try await page.fleet(window: window).html
            let report = try await BudgetEvaluator(rules: f.config.budgets).report(
                window: try DurationParsing.parse(window), windowText: window, filter: CellFilter(), now: f.now,
                from: store)
            answers["budgets \(window)"] = try json(report)
            answers["uptime \(window)"] = try json(
                try await UptimeReport.compute(
                    window: try DurationParsing.parse(window), windowText: window, slo: f.config.slo, check: nil,
                    region: nil, now: f.now, from: store))
        }
        answers["budgets filtered"] = try json(
            try await BudgetEvaluator(rules: f.config.budgets).report(
                window: .seconds(86_400), windowText: "24h",
                filter: CellFilter(region: "rio_de_janeiro", profile: "mobile_3g_brazil"), now: f.now, from: store))
        for check in StatusPageFixture.checks.map(\.name) + ["no-such-check"] {
            for window in ["1h", "24h"] {
                let rendered = try await page.check(name: check, window: window)
                answers["check \(check) \(window)"] = "\(rendered.status) \(rendered.html)"
            }
            let profiled = try await page.check(name: check, window: "24h", profile: "mobile_3g_brazil")
            answers["check \(check) 3g"] = "\(profiled.status) \(profiled.html)"
        }
        let burns = try await store.burnCounts(now: f.now).sorted { ($0.check, $0.region) < ($1.check, $1.region) }
        answers["burns"] = "\(burns)"
        answers["agents"] = "\(try await store.agents().sorted { $0.id < $1.id })"
        var cursor: ResultCursor?
        var pages = 0
        repeat {
            let page = try await store.results(check: "booking-slots", before: cursor, limit: 500)
            answers["results page \(pages)"] = page.map(\.json).joined(separator: "\n")
            cursor = page.count == 500 ? page.last?.cursor : nil
            pages += 1
        } while cursor != nil
        if let postgres = store as? PostgresStore { await Self.chainEverything(postgres) }
        answers["audit"] = "\(try await store.verifyAudit())"
        return answers
    }

    /// Links every queued audit entry. Transactions of other tests on the same server hold the
    /// horizon back for a moment (it is the whole server's), so this waits until none is queued.
    static func chainEverything(_ store: PostgresStore) async {
        _ = await eventually(every: .milliseconds(50)) {
            _ = try? await store.chainAudit()
            return (try? await store.verifyAudit().queued) == 0
        }
    }

    /// Expects `actual` to answer every read as `expected` does, naming the first difference of each.
    static func expectSame(
        _ expected: [String: String], _ actual: [String: String], _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(expected.keys.sorted() == actual.keys.sorted(), sourceLocation: sourceLocation)
        for key in expected.keys.sorted() {
            #expect(
                actual[key] == expected[key],
                "\(what) answers '\(key)' differently: \(difference(expected[key], actual[key]))",
                sourceLocation: sourceLocation)
        }
    }

    /// Where two answers part, with some context.
    static func difference(_ a: String?, _ b: String?) -> String {
        let (a, b) = (Array(a ?? "nil"), Array(b ?? "nil"))
        guard
            let i = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] })
                ?? (a.count == b.count ? nil : min(a.count, b.count))
        else { return "none" }
        func around(_ s: [Character]) -> String { String(s[max(0, i - 120)..<min(s.count, i + 120)]) }
        return "expected: …\(around(a))… got: …\(around(b))…"
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

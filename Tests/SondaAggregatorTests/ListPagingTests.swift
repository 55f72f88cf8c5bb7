import Foundation
import Hummingbird
import HummingbirdTesting
import SondaConfig
import SondaCore
import Testing

@testable import SondaAggregator

/// `?limit=&cursor=` on `/v1/alerts`, `/v1/agents` and `/v1/silences`, on both stores: pages
/// follow one order without a gap or a repeat, the last page has no `next_cursor` (also when it
/// is exactly full), an empty list is one empty page, and a bad limit or cursor is a 400.
@Suite struct ListPagingTests {
    @Test(arguments: StoreKind.allCases)
    func alertPagesFollowTheStoresOrderAcrossLiveAndResolved(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        defer { Task { await store.close() } }
        try await ListFixture.save(ListFixture.alerts(firing: 23, pending: 4, resolved: 30), in: store)
        let every = AlertSelection(live: [.pending, .firing], resolvedSince: .distantPast)
        let whole = try await store.alerts(every, after: nil, limit: 1000)
        #expect(whole.count == 57)
        #expect(
            whole.map(\.state) == Array(repeating: .firing, count: 23) + Array(repeating: .pending, count: 4)
                + Array(repeating: .resolved, count: 30), "firing, then pending (no start yet), then resolved")
        let starts = whole.prefix(23).map { $0.startsAt! }
        #expect(starts == starts.sorted(by: >), "newest start first")
        let ends = whole.suffix(30).map { $0.endsAt! }
        #expect(ends == ends.sorted(by: >), "newest end first")

        for limit in [1, 5, 27, 56, 57] {
            var paged: [TrackedAlert] = []
            var position: AlertPosition?
            repeat {
                let page = try await store.alerts(every, after: position, limit: limit)
                #expect(page.count <= limit)
                paged += page
                position = page.count == limit ? page.last.map(AlertPosition.init(of:)) : nil
            } while position != nil
            #expect(paged.map(\.fingerprint) == whole.map(\.fingerprint), "pages of \(limit)")
        }
        let resolvedOnly = try await store.alerts(
            AlertSelection(live: [], resolvedSince: ListFixture.now.addingTimeInterval(-720)), after: nil, limit: 100)
        #expect(resolvedOnly.map(\.state) == Array(repeating: .resolved, count: 12), "ended in the last 12 minutes")
    }

    @Test(arguments: StoreKind.allCases)
    func theAlertsEndpointPagesThroughEveryAlertOnce(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        defer { Task { await store.close() } }
        let alerts = ListFixture.alerts(firing: 31, pending: 3, resolved: 29)
        try await ListFixture.save(alerts, in: store)
        let whole = try await store.alerts(
            AlertSelection(live: [.firing], resolvedSince: ListFixture.now.addingTimeInterval(-86_400)), after: nil,
            limit: 1000)
        try await Application(router: ListFixture.router(store: store)).test(.router) { client in
            let (entries, pages) = try await ListFixture.walk("/v1/alerts", key: "alerts", limit: 7, client: client)
            #expect(entries.map { $0["fingerprint"] as? String } == whole.map(\.fingerprint))
            #expect(entries.count == 60 && pages == 9, "pending ones only when asked for")
            let pending = try await ListFixture.walk(
                "/v1/alerts?state=pending", key: "alerts", limit: 2, client: client)
            #expect(pending.entries.compactMap { $0["state"] as? String } == ["pending", "pending", "pending"])
            let resolved = try await ListFixture.walk(
                "/v1/alerts?state=resolved&since=1h", key: "alerts", limit: 10, client: client)
            #expect(resolved.entries.count == 29 && resolved.pages == 3)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func emptyListsAreOnePageWithoutACursor(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        defer { Task { await store.close() } }
        try await Application(router: ListFixture.router(store: store)).test(.router) { client in
            for (path, key) in [("/v1/alerts", "alerts"), ("/v1/agents", "agents"), ("/v1/silences", "silences")] {
                let response = try await client.execute(uri: path + "?limit=1", method: .get)
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(response.status == .ok)
                #expect((object?[key] as? [Any])?.isEmpty == true, "\(path): \(String(buffer: response.body))")
                #expect(object?["next_cursor"] == nil, "\(path)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aLastPageExactlyFullHasNoCursor(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        defer { Task { await store.close() } }
        try await ListFixture.save(ListFixture.alerts(firing: 12, resolved: 8), in: store)
        let silences = try await ListFixture.silences(20, in: store)
        let agents = ListFixture.agents(20)
        try await Application(router: ListFixture.router(agents: agents, store: store)).test(.router) { client in
            for (path, key) in [("/v1/alerts", "alerts"), ("/v1/agents", "agents"), ("/v1/silences", "silences")] {
                let (entries, pages) = try await ListFixture.walk(path, key: key, limit: 10, client: client)
                #expect(entries.count == 20 && pages == 2, "\(path): \(entries.count) in \(pages) pages")
                let single = try await ListFixture.walk(path, key: key, limit: 20, client: client)
                #expect(single.entries.count == 20 && single.pages == 1, "\(path)")
            }
            let listed = try await ListFixture.walk("/v1/silences", key: "silences", limit: 3, client: client)
            let order = silences.sorted { ($0.endsAt, $0.id) < ($1.endsAt, $1.id) }.map(\.id)
            #expect(listed.entries.compactMap { $0["id"] as? String } == order, "soonest end first, then by id")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func agentsArePagedByIdWithWhatTheStoreKnowsOfThem(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        defer { Task { await store.close() } }
        let agents = ListFixture.agents(25)
        let heard = agents.filter { $0.id.hasSuffix("3") || $0.id.hasSuffix("7") }
        for agent in heard { try await ListFixture.heartbeat(agent, in: store) }
        let asked = ["agent-00003", "agent-00004", "agent-00017", "nobody"]
        #expect(try await store.agents(ids: asked).map(\.id) == ["agent-00003", "agent-00017"])
        #expect(try await store.agents(ids: []).isEmpty)
        try await Application(router: ListFixture.router(agents: agents, store: store)).test(.router) { client in
            let (entries, pages) = try await ListFixture.walk("/v1/agents", key: "agents", limit: 10, client: client)
            #expect(pages == 3)
            #expect(entries.compactMap { $0["id"] as? String } == agents.map(\.id).sorted())
            let seen = entries.filter { $0["version"] as? String == "0.9.0" }.compactMap { $0["id"] as? String }
            #expect(seen == heard.map(\.id).sorted(), "each page carries its agents' heartbeats")
        }
    }

    static let badParameters: [(String, String)] = [
        ("/v1/alerts?cursor=not-a-cursor", "'cursor'"),
        ("/v1/alerts?cursor=\(ListPage<AgentPosition>.encode(AgentPosition(id: "agent-1")))", "'cursor'"),
        (
            "/v1/agents?cursor=\(ListPage<AlertPosition>.encode(AlertPosition(group: .live, key: 1, activeSinceMilliseconds: 1, fingerprint: "f")))",
            "'cursor'"
        ),
        ("/v1/silences?cursor=WyJzaWxlbmNlcyIsInNvb24iLCJpZCJd", "'cursor'"),  // ["silences","soon","id"]
        ("/v1/silences?cursor=%F0%9F%92%A5", "'cursor'"),
        ("/v1/alerts?limit=0", "'limit'"),
        ("/v1/agents?limit=1001", "'limit'"),
        ("/v1/silences?limit=ten", "'limit'"),
        ("/v1/alerts?limit=-1", "'limit'"),
        ("/v1/checks/booking/results?cursor=zzz", "'cursor'"),
        ("/v1/checks/booking/results?before=zzz", "'before'"),
    ]

    @Test(arguments: badParameters)
    func aBadLimitOrCursorIsA400NamingIt(_ uri: String, _ named: String) async throws {
        let store = try await StoreKind.sqlite.open()
        defer { Task { await store.close() } }
        try await Application(router: ListFixture.router(store: store)).test(.router) { client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == .badRequest, "\(uri)")
            #expect(errorCode(response) == "bad_parameter", "\(uri): \(String(buffer: response.body))")
            #expect(String(buffer: response.body).contains(named), "\(uri): \(String(buffer: response.body))")
        }
    }

    @Test func checkResultsAlsoAnswerNextCursorAndTakeCursor() async throws {
        let f = try IngestFixture()
        let results = (0..<3).map {
            IngestFixture.result(totalMilliseconds: 10, at: f.now.addingTimeInterval(Double(-$0)))
        }
        try await f.store.write(
            f.batch(results: results), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        try await f.application().test(.router) { client in
            let first = try await client.execute(uri: "/v1/checks/booking-slots/results?limit=2", method: .get)
            let page = try JSONSerialization.jsonObject(with: Data(buffer: first.body)) as? [String: Any]
            let cursor = try #require(page?["next_cursor"] as? String)
            #expect(page?["next"] as? String == cursor)
            let second = try await client.execute(
                uri: "/v1/checks/booking-slots/results?cursor=\(cursor)", method: .get)
            let last = try JSONSerialization.jsonObject(with: Data(buffer: second.body)) as? [String: Any]
            #expect((last?["results"] as? [Any])?.count == 1)
            #expect(last?["next_cursor"] == nil && last?["next"] is NSNull)
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import SondaConfig
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// The two stores, for tests that run on each.
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite, postgres

    func open() async throws -> any AggregatorStore {
        switch self {
        case .sqlite:
            return try SQLiteStore(path: NSTemporaryDirectory() + "sonda-list-\(UUID().uuidString).sqlite")
        case .postgres:
            return try await PostgresStore.forTests(try PostgresURL(try await PostgresServer.database()))
        }
    }
}

/// Many alerts, silences and agents for the list endpoints' paging tests. Starts and ends repeat
/// (three alerts share each), so pages split ties that only the fingerprint breaks.
enum ListFixture {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// `firing`, `pending` and `resolved` alerts, labelled `check: check-N` with N counting from 0
    /// over all of them; fingerprints are not in N's order.
    static func alerts(firing: Int, pending: Int = 0, resolved: Int) -> [TrackedAlert] {
        (0..<(firing + pending + resolved)).map { n in
            let state: TrackedAlert.State = n < firing ? .firing : n < firing + pending ? .pending : .resolved
            let start = now.addingTimeInterval(-Double(3600 + (n / 3) * 60))
            return TrackedAlert(
                fingerprint: String(format: "%016llx", UInt64(n) &* 0x9E37_79B9_7F4A_7C15),
                labels: [
                    "alertname": "SondaDown", "severity": n % 2 == 0 ? "critical" : "high", "check": "check-\(n)",
                ], summary: "check-\(n) is down", state: state, activeSince: start.addingTimeInterval(-Double(n % 2)),
                startsAt: state == .pending ? nil : start,
                endsAt: state == .resolved ? now.addingTimeInterval(-Double((n / 3) * 60)) : nil)
        }
    }

    /// Saves `alerts` as one evaluation would.
    static func save(_ alerts: [TrackedAlert], in store: any AggregatorStore) async throws {
        let lease = try #require(try await store.acquireLease(holder: "list-fixture", ttl: .seconds(600)))
        let round = AlertRound(at: now, firing: [], changed: [], reminders: [])
        try await store.saveAlerts(
            AlertEngine.Evaluation(round: round, updated: alerts, dropped: [], changes: []), cursor: nil, at: now,
            lease: lease, notifications: [])
    }

    /// `count` silences; every third ends at the same time as the two before it.
    static func silences(_ count: Int, in store: any AggregatorStore) async throws -> [Silence] {
        var silences: [Silence] = []
        for n in 0..<count {
            let silence = Silence(
                id: String(format: "%08x-silence", UInt32(truncatingIfNeeded: UInt64(n) &* 2_654_435_761)),
                matchers: ["check": "check-\(n)"], startsAt: now,
                endsAt: now.addingTimeInterval(Double(3600 + (n / 3) * 60)), comment: "n=\(n)")
            try await store.insert(silence)
            silences.append(silence)
        }
        return silences
    }

    /// `count` configured agents, in an order that is not their ids'.
    static func agents(_ count: Int) -> [AggregatorConfig.Agent] {
        (0..<count).map { n in
            AggregatorConfig.Agent(
                id: String(format: "agent-%05d", (n * 7919) % count), region: n % 2 == 0 ? "sao_paulo" : "rio",
                publicKey: Data(repeating: UInt8(n % 256), count: 32))
        }
    }

    /// A heartbeat from `agent`, as a batch without results stores it.
    static func heartbeat(_ agent: AggregatorConfig.Agent, in store: any AggregatorStore) async throws {
        let batch = ResultBatch(
            agent: agent.id, batchID: UUID().uuidString, sentAt: now, results: [],
            heartbeat: Heartbeat(version: "0.9.0", configHash: "hash-\(agent.id)", spoolDepth: 1, dropped: 0))
        try await store.write(batch, rawResults: nil, region: agent.region, now: now, auditDetail: nil)
    }

    static func router(agents: [AggregatorConfig.Agent] = [], store: any AggregatorStore) -> Router<AggregatorRequestContext>
    {
        AggregatorRouter(config: AggregatorConfig(agents: agents), store: store, now: { now }).build()
    }

    /// Every page of `path` read `limit` at a time through `client`: the entries under `key` and the
    /// number of pages.
    static func walk(_ path: String, key: String, limit: Int, client: some TestClientProtocol) async throws
        -> (entries: [[String: Any]], pages: Int)
    {
        var entries: [[String: Any]] = []
        var cursor: String?
        var pages = 0
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let uri = "\(path)\(separator)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == .ok, "\(uri): \(String(buffer: response.body))")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            let page = try #require(object[key] as? [[String: Any]])
            #expect(page.count <= limit)
            entries += page
            cursor = object["next_cursor"] as? String
            if cursor != nil { #expect(page.count == limit || key == "alerts", "a page before the last is full") }
            pages += 1
        } while cursor != nil && pages <= 10_000
        return (entries, pages)
    }
}

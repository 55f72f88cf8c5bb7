import Foundation
import SondaConfig
import SondaCore

/// `GET /v1/agents`: every configured agent with its last heartbeat, so a silent agent shows up
/// as one (last_seen null or old) rather than as a down target.
public struct AgentStatus: Codable, Sendable, Hashable {
    public var id: String
    public var region: String
    public var site: String?
    public var lastSeen: String?
    public var secondsSinceSeen: Double?
    public var version: String?
    public var configHash: String?
    public var spoolDepth: Int?
    public var dropped: Int?
    /// Results this aggregator (or another) refused for good, which the agent set aside.
    public var quarantined: Int?
    public var batches: Int
    public var results: Int

    enum CodingKeys: String, CodingKey {
        case id, region, site, version, batches, results, dropped, quarantined
        case lastSeen = "last_seen"
        case secondsSinceSeen = "seconds_since_seen"
        case configHash = "config_hash"
        case spoolDepth = "spool_depth"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(region, forKey: .region)
        try c.encode(site, forKey: .site)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(secondsSinceSeen, forKey: .secondsSinceSeen)
        try c.encode(version, forKey: .version)
        try c.encode(configHash, forKey: .configHash)
        try c.encode(spoolDepth, forKey: .spoolDepth)
        try c.encode(dropped, forKey: .dropped)
        try c.encode(quarantined, forKey: .quarantined)
        try c.encode(batches, forKey: .batches)
        try c.encode(results, forKey: .results)
    }

    public struct List: Codable, Sendable {
        public var agents: [AgentStatus]
        /// The cursor of the next page, while more remain.
        public var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case agents
            case nextCursor = "next_cursor"
        }
    }

    /// A page of `GET /v1/agents`: the configured agents by id, each with the store's record of it.
    static func page(
        _ page: ListPage<AgentPosition>, configured: [AggregatorConfig.Agent], from store: any AggregatorStore,
        now: Date
    ) async throws -> List {
        let remaining = configured.filter { agent in page.after.map { agent.id > $0.id } ?? true }
        let read = Array(remaining.sorted { $0.id < $1.id }.prefix(page.readLimit))
        let (shown, next) = page.split(read) { AgentPosition(id: $0.id) }
        var list = Self.list(configured: shown, records: try await store.agents(ids: shown.map(\.id)), now: now)
        list.nextCursor = next
        return list
    }

    static func list(configured: [AggregatorConfig.Agent], records: [AgentRecord], now: Date) -> List {
        var seen = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var agents: [AgentStatus] = []
        for agent in configured {
            var status = AgentStatus(
                id: agent.id, region: agent.region, site: agent.site, batches: 0, results: 0)
            if let record = seen.removeValue(forKey: agent.id) {
                status.lastSeen = Timestamp.format(record.lastSeen)
                status.secondsSinceSeen = (now.timeIntervalSince(record.lastSeen) * 10).rounded() / 10
                status.version = record.version
                status.configHash = record.configHash
                status.spoolDepth = record.spoolDepth
                status.dropped = record.dropped
                status.quarantined = record.quarantined
                status.batches = record.batches
                status.results = record.results
            }
            agents.append(status)
        }
        return List(agents: agents)
    }
}

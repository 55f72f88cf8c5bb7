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
    public var batches: Int
    public var results: Int

    enum CodingKeys: String, CodingKey {
        case id, region, site, version, batches, results, dropped
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
        try c.encode(batches, forKey: .batches)
        try c.encode(results, forKey: .results)
    }

    public struct List: Codable, Sendable {
        public var agents: [AgentStatus]
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
                status.batches = record.batches
                status.results = record.results
            }
            agents.append(status)
        }
        return List(agents: agents)
    }
}

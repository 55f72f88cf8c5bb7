import Foundation

/// What an agent POSTs to `/v1/results`: a batch of results with the agent's heartbeat.
public struct ResultBatch: Codable, Sendable, Hashable {
    public var agent: String
    public var batchID: String
    public var sentAt: Date
    public var results: [ProbeResult]
    public var heartbeat: Heartbeat

    public init(agent: String, batchID: String, sentAt: Date, results: [ProbeResult], heartbeat: Heartbeat) {
        self.agent = agent
        self.batchID = batchID
        self.sentAt = sentAt
        self.results = results
        self.heartbeat = heartbeat
    }

    enum CodingKeys: String, CodingKey {
        case agent, results, heartbeat
        case batchID = "batch_id"
        case sentAt = "sent_at"
    }
}

/// Rides on every batch (or alone when idle), so "agent silent" is told apart from "target down".
public struct Heartbeat: Codable, Sendable, Hashable {
    public var version: String
    /// SHA-256 of the loaded configuration, to see which agents run which config.
    public var configHash: String
    public var spoolDepth: Int
    /// Results dropped from a full spool since the previous heartbeat.
    public var dropped: Int

    public init(version: String, configHash: String, spoolDepth: Int, dropped: Int) {
        self.version = version
        self.configHash = configHash
        self.spoolDepth = spoolDepth
        self.dropped = dropped
    }

    enum CodingKeys: String, CodingKey {
        case version
        case configHash = "config_hash"
        case spoolDepth = "spool_depth"
        case dropped
    }
}

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
    /// Results dropped from a full spool since the last heartbeat the aggregator acknowledged (a
    /// heartbeat whose POST failed hands its count on to the next one).
    public var dropped: Int
    /// Results the aggregator refused for good (400, 413) and the agent set aside in its spool's
    /// `quarantine/` folder, counted like `dropped`; absent when there are none, so an agent with
    /// nothing quarantined sends what agents sent before the field existed.
    public var quarantined: Int?

    public init(version: String, configHash: String, spoolDepth: Int, dropped: Int, quarantined: Int? = nil) {
        self.version = version
        self.configHash = configHash
        self.spoolDepth = spoolDepth
        self.dropped = dropped
        self.quarantined = quarantined
    }

    enum CodingKeys: String, CodingKey {
        case version
        case configHash = "config_hash"
        case spoolDepth = "spool_depth"
        case dropped, quarantined
    }
}

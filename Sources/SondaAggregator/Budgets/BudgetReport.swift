import Foundation
import SondaCore

/// `GET /v1/budgets`: one cell per region × profile × class × budgeted phase over a window,
/// computed from the minute rollups (successful results only).
public struct BudgetReport: Codable, Sendable {
    public init(window: String, cells: [Cell]) {
        self.window = window
        self.cells = cells
    }

    public struct Cell: Codable, Sendable, Hashable {
        public var region: String
        public var profile: String
        public var endpointClass: String
        public var phase: String
        public var count: Int
        public var p50: Double?
        public var p95: Double?
        public var p99: Double?
        public var quantile: String
        public var limit: Double?
        public var state: BudgetState

        enum CodingKeys: String, CodingKey {
            case region, profile, phase, count, quantile, state
            case endpointClass = "class"
            case p50 = "p50_ms", p95 = "p95_ms", p99 = "p99_ms", limit = "limit_ms"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(region, forKey: .region)
            try c.encode(profile, forKey: .profile)
            try c.encode(endpointClass, forKey: .endpointClass)
            try c.encode(phase, forKey: .phase)
            try c.encode(count, forKey: .count)
            try c.encode(p50.map(Self.rounded), forKey: .p50)
            try c.encode(p95.map(Self.rounded), forKey: .p95)
            try c.encode(p99.map(Self.rounded), forKey: .p99)
            try c.encode(quantile, forKey: .quantile)
            try c.encode(limit, forKey: .limit)
            try c.encode(state, forKey: .state)
        }

        static func rounded(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
    }

    public var window: String
    public var cells: [Cell]
}

/// Which cells a query asks for.
public struct CellFilter: Sendable, Hashable {
    public var region: String?
    public var profile: String?
    public var endpointClass: String?

    public init(region: String? = nil, profile: String? = nil, endpointClass: String? = nil) {
        self.region = region
        self.profile = profile
        self.endpointClass = endpointClass
    }
}

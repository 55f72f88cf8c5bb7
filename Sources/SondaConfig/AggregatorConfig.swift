import Foundation
import SondaCore

/// aggregator.yaml, validated: where to listen and store, which agents may report (by public key),
/// the budgets, the SLO, retention and who may read.
public struct AggregatorConfig: Sendable {
    /// One agent allowed to report: its id, where it is, and its Ed25519 public key (32 raw bytes).
    public struct Agent: Sendable, Hashable {
        public var id: String
        public var region: String
        public var site: String?
        public var publicKey: Data

        public init(id: String, region: String, site: String? = nil, publicKey: Data) {
            self.id = id
            self.region = region
            self.site = site
            self.publicKey = publicKey
        }
    }

    /// The availability objective: a fraction (0.999) over a window (30 days).
    public struct Objective: Sendable, Hashable {
        public var availability: Double
        public var window: Duration

        public init(availability: Double = 0.999, window: Duration = .seconds(30 * 86_400)) {
            self.availability = availability
            self.window = window
        }
    }

    public var file: String
    public var host: String
    public var port: Int
    /// A SQLite file's path, or a PostgreSQL server's `postgres://` URL (`PostgresURL`).
    public var database: String
    public var agents: [Agent]
    public var budgets: [BudgetRule]
    public var slo: Objective
    /// Bearer tokens for read endpoints; empty means the read endpoints are public.
    public var readTokens: [String]
    /// Bearer tokens that may also change silences; empty means changes are taken from loopback only.
    public var adminTokens: [String] = []
    /// How long raw results are kept before pruning (rollups are kept longer).
    public var rawRetention: Duration
    public var rollupRetention: Duration
    /// Largest accepted POST body, in bytes.
    public var maxBodyBytes: Int
    public var maxResultsPerBatch: Int
    /// How far a signature's timestamp may be from the aggregator's clock.
    public var signatureWindow: Duration
    /// How long a client may take to send a request head, and a connection stay open between requests.
    public var requestTimeout: Duration = .seconds(60)
    /// How long a client may take to read an answer.
    public var responseTimeout: Duration = .seconds(60)
    /// Connections served at once; more wait in the listen backlog.
    public var maxConnections = 4096
    public var alerting = AlertingConfig()
    /// PEM certificate chain and private key to serve HTTPS; nil serves plain HTTP.
    public var tls: TLSFiles?
    /// Signed checkpoints of the audit chain; nil writes none.
    public var audit: AuditConfig?

    public struct TLSFiles: Sendable, Hashable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    public init(
        file: String = "", host: String = "127.0.0.1", port: Int = 9470, database: String = "sonda.sqlite",
        agents: [Agent] = [], budgets: [BudgetRule] = [], slo: Objective = Objective(), readTokens: [String] = [],
        rawRetention: Duration = .seconds(14 * 86_400), rollupRetention: Duration = .seconds(400 * 86_400),
        maxBodyBytes: Int = 4 << 20, maxResultsPerBatch: Int = 5_000, signatureWindow: Duration = .seconds(300)
    ) {
        self.file = file
        self.host = host
        self.port = port
        self.database = database
        self.agents = agents
        self.budgets = budgets
        self.slo = slo
        self.readTokens = readTokens
        self.rawRetention = rawRetention
        self.rollupRetention = rollupRetention
        self.maxBodyBytes = maxBodyBytes
        self.maxResultsPerBatch = maxResultsPerBatch
        self.signatureWindow = signatureWindow
    }

    public func agent(_ id: String) -> Agent? { agents.first { $0.id == id } }
}

extension AggregatorConfig {
    /// `database` fit to print: a URL's password is replaced by `***`.
    public var databaseShown: String { (try? PostgresURL(database))?.redacted ?? database }
}

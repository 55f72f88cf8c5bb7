import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaConfig
import SondaCore

/// An aggregator over a real SQLite file in a temporary directory, with one or two agents whose
/// keys the test holds, driven through Hummingbird's router test client.
struct IngestFixture: Sendable {
    let directory: String
    /// Raw private keys by agent id (the key type is not Sendable).
    let keys: [String: Data]
    var config: AggregatorConfig
    let store: SQLiteStore
    var now: Date

    init(
        agents: [String] = ["sp-clinic-01", "rj-clinic-01"], budgets: [BudgetRule] = [], readTokens: [String] = [],
        maxBodyBytes: Int = 1 << 20, now: Date = Date()
    ) throws {
        directory = NSTemporaryDirectory() + "sonda-agg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var keys: [String: Data] = [:]
        var configured: [AggregatorConfig.Agent] = []
        for id in agents {
            let key = Curve25519.Signing.PrivateKey()
            keys[id] = key.rawRepresentation
            configured.append(
                .init(
                    id: id, region: id.hasPrefix("sp") ? "sao_paulo" : "rio", publicKey: key.publicKey.rawRepresentation
                ))
        }
        self.keys = keys
        config = AggregatorConfig(
            database: directory + "/sonda.sqlite", agents: configured, budgets: budgets, readTokens: readTokens,
            maxBodyBytes: maxBodyBytes)
        store = try SQLiteStore(path: config.database)
        self.now = now
    }

    /// The aggregator's router over `store` (the fixture's SQLite file unless given).
    func application(store: (any AggregatorStore)? = nil, counters: IngestCounters = IngestCounters())
        -> some ApplicationProtocol
    {
        let now = self.now
        return Application(
            router: AggregatorRouter(config: config, store: store ?? self.store, counters: counters, now: { now })
                .build())
    }

    /// The router behind the HTTP server `serve` runs (`Expect: 100-continue` included), on a free
    /// loopback port, for `.live` tests.
    func liveApplication() throws -> some ApplicationProtocol {
        let now = self.now
        return Application(
            router: AggregatorRouter(config: config, store: store, now: { now }).build(),
            server: try AggregatorServer.httpServer(config),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func body(_ batch: ResultBatch) throws -> [UInt8] {
        Array(try ResultJSON.encoder().encode(batch))
    }

    /// The Sonda-Signature header for `body`, signed by `agent`'s key (or `signer`'s) at `at`.
    func signature(for body: [UInt8], agent: String, signer: String? = nil, at: Date? = nil) throws -> String {
        let t = Int((at ?? now).timeIntervalSince1970)
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: keys[signer ?? agent]!)
        let signature = try key.signature(for: Array("\(t).".utf8) + body)
        return "keyid=\(agent),t=\(t),sig=\(Data(signature).base64EncodedString())"
    }

    func batch(
        agent: String = "sp-clinic-01", results: [ProbeResult], dropped: Int = 0, quarantined: Int? = nil
    ) -> ResultBatch {
        ResultBatch(
            agent: agent, batchID: UUID().uuidString, sentAt: now, results: results,
            heartbeat: Heartbeat(
                version: "0.1.0", configHash: "abc", spoolDepth: 3, dropped: dropped, quarantined: quarantined))
    }

    static func result(
        check: String = "booking-slots", endpointClass: String = "appointment_booking",
        profile: String = "desktop_brazil",
        totalMilliseconds: Double, error: ProbeError? = nil, at: Date, agent: String = "sp-clinic-01",
        region: String = "sao_paulo"
    ) -> ProbeResult {
        ProbeResult(
            check: check, agent: agent, region: region, profile: profile, endpointClass: endpointClass,
            startedAt: at, error: error,
            phases: PhaseTimings(
                dns: 0.1, connect: 0.2, tls: 1, send: 0.1, wait: totalMilliseconds - 1.5, receive: 0.1,
                total: totalMilliseconds))
    }
}

extension TestClientProtocol {
    /// POSTs a signed batch body.
    func post(_ body: [UInt8], signature: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let signature { headers[HTTPField.Name("Sonda-Signature")!] = signature }
        return try await execute(uri: "/v1/results", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }
}

/// The `{"error":{"code":…}}` of an answer.
func errorCode(_ response: TestResponse) -> String? {
    let object = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: [String: String]]
    return object?["error"]?["code"]
}

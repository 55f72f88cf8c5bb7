import Foundation
import HTTPTypes
import Hummingbird
import SondaConfig
import SondaCore

/// `POST /v1/results`: the signature header and its agent, before any of the body is read; then
/// the size limit, the signature and timestamp window, decoding, the batch's origin, and one
/// transaction that also remembers the batch id, so a replay inside the window changes nothing.
/// Every refusal is an `AggregatorError` about this request only; nothing is shared between agents
/// but the database.
public struct IngestEndpoint: Sendable {
    let store: any AggregatorStore
    let agents: [String: AggregatorConfig.Agent]
    let maxBodyBytes: Int
    let maxResults: Int
    let window: Duration
    let counters: IngestCounters
    let now: @Sendable () -> Date

    public init(
        store: any AggregatorStore, config: AggregatorConfig, counters: IngestCounters,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.agents = Self.agents(config)
        self.maxBodyBytes = config.maxBodyBytes
        self.maxResults = config.maxResultsPerBatch
        self.window = config.signatureWindow
        self.counters = counters
        self.now = now
    }

    /// The configured agents by id (the first entry of an id, as the config loader refuses twins).
    static func agents(_ config: AggregatorConfig) -> [String: AggregatorConfig.Agent] {
        Dictionary(config.agents.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func handle(_ request: Request) async throws -> Response {
        do {
            let receipt = try await ingest(request)
            counters.accepted(receipt)
            let replayed = receipt.replayed ? #","replayed":true"# : ""
            let body = #"{"accepted":\#(receipt.accepted),"duplicates":\#(receipt.duplicates)\#(replayed)}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        } catch let error as AggregatorError {
            counters.rejected(error.code)
            throw error
        }
    }

    func ingest(_ request: Request) async throws -> BatchReceipt {
        let (signature, agent) = try SignatureHeader.admit(
            request.headers[HTTPField.Name(SignatureHeader.name)!], agents: agents)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw AggregatorError.tooLarge("body of \(length) bytes is over the limit of \(maxBodyBytes)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw AggregatorError.tooLarge("body is over the limit of \(maxBodyBytes) bytes")
        }
        let body = Data(buffer: buffer)
        try signature.verify(body: body, agent: agent, now: now(), window: window)
        let read: BatchReader.Batch
        do {
            read = try BatchReader.read(body, maxResults: maxResults)
        } catch {
            throw error.tooLarge ? AggregatorError.tooLarge(error.message) : AggregatorError.malformed(error.message)
        }
        let batch = read.batch
        try BatchOrigin.check(batch, signedBy: agent)
        let auditDetail =
            "agent=\(batch.agent) batch=\(batch.batchID) results=\(batch.results.count) t=\(signature.timestamp) "
            + "sig=\(signature.signature.base64EncodedString()) sha256=\(AuditLog.digest(body))"
        return try await store.write(
            batch, rawResults: read.rawResults, region: agent.region, now: now(), auditDetail: auditDetail,
            rememberUntil: signature.replayableUntil(window: window))
    }
}

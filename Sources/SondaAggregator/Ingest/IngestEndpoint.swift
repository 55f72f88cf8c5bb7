import Foundation
import HTTPTypes
import Hummingbird
import SondaConfig
import SondaCore

/// `POST /v1/results`: size limit, signature and timestamp window, decoding, then one transaction.
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
        self.agents = Dictionary(config.agents.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.maxBodyBytes = config.maxBodyBytes
        self.maxResults = config.maxResultsPerBatch
        self.window = config.signatureWindow
        self.counters = counters
        self.now = now
    }

    public func handle(_ request: Request) async throws -> Response {
        do {
            let receipt = try await ingest(request)
            counters.accepted(receipt)
            let body = #"{"accepted":\#(receipt.accepted),"duplicates":\#(receipt.duplicates)}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        } catch let error as AggregatorError {
            counters.rejected(error.code)
            throw error
        }
    }

    func ingest(_ request: Request) async throws -> BatchReceipt {
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
        guard let header = request.headers[HTTPField.Name(SignatureHeader.name)!] else {
            throw AggregatorError.badSignature("missing \(SignatureHeader.name) header")
        }
        let signature = try SignatureHeader(parsing: header)
        try signature.verify(body: body, agents: agents, now: now(), window: window)
        let read: BatchReader.Batch
        do {
            read = try BatchReader.read(body, maxResults: maxResults)
        } catch {
            throw error.tooLarge ? AggregatorError.tooLarge(error.message) : AggregatorError.malformed(error.message)
        }
        let batch = read.batch
        guard batch.agent == signature.agent else {
            throw AggregatorError.badSignature(
                "batch names agent '\(batch.agent)' but is signed by '\(signature.agent)'")
        }
        let auditDetail =
            "agent=\(batch.agent) batch=\(batch.batchID) results=\(batch.results.count) t=\(signature.timestamp) "
            + "sig=\(signature.signature.base64EncodedString()) sha256=\(AuditLog.digest(body))"
        return try await store.write(
            batch, rawResults: read.rawResults, region: agents[signature.agent]!.region, now: now(),
            auditDetail: auditDetail)
    }
}

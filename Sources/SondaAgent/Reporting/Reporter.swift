import Foundation
import Logging
import ServiceLifecycle
import SondaCore
import SondaProbe

/// Sends the spool's batches to the aggregator, signed; deletes a batch only after a 200;
/// backs off with jitter while the aggregator is away; sends a heartbeat alone each minute when
/// there is nothing else to send. On graceful shutdown it makes one last attempt to flush.
public actor Reporter: Service {
    private let url: String
    private let caFile: String?
    private let signer: BatchSigner
    private let spool: ResultSpool
    private let metrics: AgentMetrics
    private let logger: Logger
    private let configHash: String
    private let connection = ProbeWorkerPool(workers: 1)
    private var backoff = Backoff()
    private var lastSent = ContinuousClock.now
    private var generator = SystemRandomNumberGenerator()

    public init(
        aggregatorURL: String, caFile: String?, signer: BatchSigner, spool: ResultSpool, metrics: AgentMetrics,
        configHash: String, logger: Logger
    ) {
        self.url = aggregatorURL.hasSuffix("/") ? aggregatorURL + "v1/results" : aggregatorURL + "/v1/results"
        self.caFile = caFile
        self.signer = signer
        self.spool = spool
        self.metrics = metrics
        self.configHash = configHash
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wait = await step(force: false)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        // Last chance before exit: whatever is spooled, sealed now; what fails stays spooled.
        while (try? spool.nextBatch(force: true)) != nil {
            if await step(force: true, timeout: .seconds(3)) > .zero { break }
        }
        connection.shutdown()
    }

    /// Sends one batch if there is one; returns how long to wait before the next step.
    private func step(force: Bool, timeout: Duration = .seconds(10)) async -> Duration {
        let batch: SpoolBatch?
        do {
            batch = try spool.nextBatch(force: force)
        } catch {
            logger.error("spool: \(error)")
            return .seconds(1)
        }
        let idle = ContinuousClock.now - lastSent
        guard batch != nil || idle >= .seconds(60) else { return .milliseconds(500) }
        let results = batch?.results ?? []
        let payload = ResultBatch(
            agent: signer.agentID, batchID: batch?.id ?? "heartbeat-\(UUIDv7.generate())", sentAt: Date(),
            results: results,
            heartbeat: Heartbeat(
                version: SondaVersion.current, configHash: configHash, spoolDepth: spool.depth,
                dropped: spool.takeDroppedSinceLastReport()))
        let response = await send(payload, timeout: timeout)
        if response.status == 200 {
            if let batch { try? spool.acknowledge(batch) }
            backoff.succeeded()
            lastSent = ContinuousClock.now
            metrics.reported(ok: true, spoolDepth: spool.depth, dropped: spool.droppedTotal)
            return .zero
        }
        metrics.reported(ok: false, spoolDepth: spool.depth, dropped: spool.droppedTotal)
        let wait = backoff.failed(using: &generator)
        let reason = response.transportError ?? "HTTP \(response.status) \(response.body.prefix(200))"
        logger.warning("sending \(results.count) results failed (\(reason)); retrying in \(DurationParsing.format(wait))")
        return wait
    }

    private func send(_ batch: ResultBatch, timeout: Duration) async -> HTTPPostResponse {
        let body: [UInt8]
        let header: String
        do {
            body = Array(try ResultJSON.encoder().encode(batch))
            header = try signer.header(for: body)
        } catch {
            return HTTPPostResponse(status: 0, body: "", transportError: "cannot encode or sign the batch: \(error)")
        }
        let url = self.url
        let caFile = self.caFile
        return await connection.withWorker { runner in
            runner.post(
                url: url, body: body, headers: [HTTPHeader(name: BatchSigner.headerName, value: header)],
                timeout: timeout, caFile: caFile)
        }
    }
}

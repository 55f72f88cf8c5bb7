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
    static let heartbeatInterval = Duration.seconds(60)

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
        while !Task.isCancelled, (try? spool.nextBatch(force: true)) != nil {
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
        guard batch != nil || idle >= Self.heartbeatInterval else {
            // Sleep until the open segment is due to be sealed, or for a second while none is open
            // (the first append opens one); never past the next heartbeat. One wake-up per batch,
            // not two a second: on a busy agent polling was a sixth of the CPU.
            return min(spool.timeUntilSealDue ?? .seconds(1), Self.heartbeatInterval - idle)
        }
        let lines = batch?.lines ?? []
        let payload = ResultBatch(
            agent: signer.agentID, batchID: batch?.id ?? "heartbeat-\(UUIDv7.generate())", sentAt: Date(),
            results: [],
            heartbeat: Heartbeat(
                version: SondaVersion.current, configHash: configHash, spoolDepth: spool.depth,
                dropped: spool.takeDroppedSinceLastReport()))
        let response = await send(payload, lines: lines, timeout: timeout)
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
        logger.warning("sending \(lines.count) results failed (\(reason)); retrying in \(DurationParsing.format(wait))")
        return wait
    }

    /// The batch as JSON with the spooled result lines spliced in as they are, so results are never
    /// decoded and encoded again on their way out. With sorted keys and no results, `"results":[]`
    /// appears once, as the key (a string value containing it would have its quotes escaped).
    static func body(_ batch: ResultBatch, lines: [[UInt8]]) throws -> [UInt8] {
        let frame = Array(try ResultJSON.encoder().encode(batch))
        let marker = Array(#""results":[]"#.utf8)
        guard let at = frame.firstRange(of: marker) else { return frame }
        var body = Array(frame[..<at.lowerBound]) + Array(#""results":["#.utf8)
        body.reserveCapacity(frame.count + lines.reduce(0) { $0 + $1.count + 1 })
        for (index, line) in lines.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: line)
        }
        body.append(UInt8(ascii: "]"))
        body.append(contentsOf: frame[at.upperBound...])
        return body
    }

    private func send(_ batch: ResultBatch, lines: [[UInt8]], timeout: Duration) async -> HTTPPostResponse {
        let body: [UInt8]
        let header: String
        do {
            body = try Self.body(batch, lines: lines)
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

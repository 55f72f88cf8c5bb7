import Foundation
import SondaCore
import SondaProbe

/// What the reporter does with one batch: send it whole; after a 413, in halves, recursively down
/// to single results; set aside in the spool's quarantine what the aggregator refuses for good
/// (400, or 413 for a single result), logged once with the aggregator's message and counted; and
/// only then take the next batch. A failure to reach any aggregator stops the batch where it is,
/// to be resumed after the backoff.
extension Reporter {
    /// Why a step could not settle its batch, and how many results that held back.
    typealias Failure = (reason: String, results: Int)

    /// Settles `batch`; nil when it left the spool.
    func deliver(_ batch: SpoolBatch, timeout: UploadTimeout, on runner: ProbeRunner) -> Failure? {
        var delivery = BatchDelivery(batchID: batch.id, count: batch.count)
        if let resumed = unfinished, resumed.batchID == batch.id, resumed.count == batch.count { delivery = resumed }
        unfinished = nil
        // Where each result is in `batch.objects`, found once the batch is to be cut.
        var ranges: [Range<Int>]?
        func cut() -> [Range<Int>]? {
            if ranges == nil {
                ranges = BatchFileLines.objectRanges(batch.objects).flatMap { $0.count == batch.count ? $0 : nil }
            }
            return ranges
        }
        while let part = delivery.next {
            var objects = batch.objects
            var batchID = batch.id
            if part != 0..<batch.count {
                guard let ranges = cut() else {
                    // Only a batch that can be cut is ever split; start again whole if this one cannot.
                    delivery = BatchDelivery(batchID: batch.id, count: batch.count)
                    continue
                }
                objects = Array(
                    batch.objects[ranges[part.lowerBound].lowerBound..<ranges[part.upperBound - 1].upperBound])
                batchID = "\(batch.id)/\(part.lowerBound)-\(part.upperBound)"
            }
            switch post(batchID: batchID, objects: objects, timeout: timeout, on: runner) {
            case .accepted:
                delivery.accepted(part)
            case .refused(let refusal):
                let divisible = refusal.isTooLarge && part.count > 1 && cut() != nil
                let whole = delivery.isWhole
                if delivery.refused(part, refusal, divisible: divisible), whole {
                    let refused = "aggregator refused batch \(batch.id) of \(batch.count) results (\(refusal))"
                    logger.notice("\(refused); sending it in halves")
                }
            case .unavailable(let reason):
                unfinished = delivery
                return (reason, part.count)
            }
        }
        guard !delivery.refused.isEmpty else {
            do { try spool.acknowledge(batch) } catch { logger.error("spool: \(error)") }
            return nil
        }
        return quarantine(batch, delivery)
    }

    private func quarantine(_ batch: SpoolBatch, _ delivery: BatchDelivery) -> Failure? {
        let aside: Quarantined?
        do {
            aside = try spool.quarantine(
                batch, refused: delivery.refused.map(\.part), explanation: Self.explanation(of: delivery))
        } catch {
            unfinished = delivery
            return ("cannot set the refused results aside: \(error)", delivery.refusedResults)
        }
        guard let aside else { return nil }
        metrics.quarantined(results: spool.quarantinedTotal, batches: spool.quarantinedBatches)
        var reasons: [String] = []
        for refused in delivery.refused where !reasons.contains(refused.refusal.description) {
            reasons.append(refused.refusal.description)
        }
        let shown = reasons.prefix(3).joined(separator: "; ") + (reasons.count > 3 ? "; …" : "")
        let refused = "aggregator refused \(aside.results) of the \(batch.count) results of batch \(batch.id)"
        logger.error("\(refused) for good (\(shown)); set aside in \(aside.path)")
        if !aside.trimmed.isEmpty {
            let cap = "quarantine over its cap of \(spool.configuration.maxQuarantineBytes) bytes"
            logger.warning("\(cap): removed the files of batches \(aside.trimmed.joined(separator: ", "))")
        }
        return nil
    }

    /// `<batch id>.error.json`: what the aggregator said about each refused part, in the order of
    /// the results file (`results` lines each).
    static func explanation(of delivery: BatchDelivery, at date: Date = Date()) -> String {
        let refusals: [[String: Any]] = delivery.refused.map {
            [
                "results": $0.part.count, "status": $0.refusal.status, "code": $0.refusal.code ?? NSNull(),
                "message": $0.refusal.message,
            ]
        }
        let object: [String: Any] = [
            "batch_id": delivery.batchID, "batch_results": delivery.count, "quarantined": delivery.refusedResults,
            "quarantined_at": date.formatted(.iso8601), "refusals": refusals,
        ]
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A heartbeat alone; nil once the aggregator has it.
    func sendHeartbeat(timeout: UploadTimeout, on runner: ProbeRunner) -> Failure? {
        switch post(batchID: "heartbeat-\(UUIDv7.generate())", objects: [], timeout: timeout, on: runner) {
        case .accepted: return nil
        case .refused(let refusal):
            logger.error("aggregator refused the heartbeat (\(refusal))")
            return nil
        case .unavailable(let reason): return (reason, 0)
        }
    }

    /// Posts `objects` (results as a JSON array's contents) as batch `batchID` with the heartbeat.
    /// The heartbeat's counts of dropped and quarantined results are marked as reported only once
    /// the aggregator has answered 200, so a failed POST hands them on to the next.
    func post(batchID: String, objects: [UInt8], timeout: UploadTimeout, on runner: ProbeRunner) -> AggregatorAnswer {
        let counts = spool.unreportedCounts()
        let payload = ResultBatch(
            agent: signer.agentID, batchID: batchID, sentAt: WallClock.now, results: [],
            heartbeat: Heartbeat(
                version: SondaVersion.current, configHash: configHash, spoolDepth: spool.depth, dropped: counts.dropped,
                quarantined: counts.quarantined > 0 ? counts.quarantined : nil))
        let answer: AggregatorAnswer
        do {
            let body = try Self.body(payload, objects: objects)
            answer = link.post(body, signature: try signer.header(for: body), timeout: timeout, on: runner)
        } catch {
            answer = .unavailable("cannot encode or sign the batch: \(error)")
        }
        if answer.isAccepted { spool.reported(counts) }
        if let refusal = link.clockRefusal {
            let time = WallClock.now.formatted(.iso8601)
            metrics.faults.record(
                .clockSkew, "the aggregator refuses this agent's clock (it reads \(time)): \(refusal); fix the clock")
        } else if answer.isAccepted {
            metrics.faults.recovered(.clockSkew)
        }
        metrics.reported(ok: answer.isAccepted, spoolDepth: spool.depth, dropped: spool.droppedTotal)
        return answer
    }
}

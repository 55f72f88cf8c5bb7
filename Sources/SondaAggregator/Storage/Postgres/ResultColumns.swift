import Foundation
import SondaCore

/// A batch's results as one array per column, for `UNNEST`.
package struct ResultColumns: Sendable {
    var ids = TextArray(), startedAt: [Int64] = [], agents = TextArray(), checks = TextArray()
    var steps = TextArray(), regions = TextArray(), profiles = TextArray(), classes = TextArray()
    var ok: [Bool] = [], errorCodes = TextArray(), totals: [Double] = [], json: RawResults

    /// `rawResults`, when given, is each result's JSON as received; otherwise it is encoded.
    package init(_ results: [ProbeResult], agent: String, agentRegion: String, rawResults: RawResults? = nil) {
        if let rawResults {
            json = rawResults
        } else {
            var writer = ResultJSONWriter()
            json = RawResults(results.map { Array(writer.line($0).dropLast()) })
        }
        startedAt.reserveCapacity(results.count)
        ok.reserveCapacity(results.count)
        totals.reserveCapacity(results.count)
        // Each result by its address: passed by value to a mutating method, it was copied (744
        // bytes, and its strings retained), even from the buffer.
        results.withUnsafeBufferPointer { results in
            for i in results.indices { append(results.baseAddress! + i, agent: agent, agentRegion: agentRegion) }
        }
    }

    private mutating func append(_ result: UnsafePointer<ProbeResult>, agent: String, agentRegion: String) {
        let key = RollupKey(result.pointee, agentRegion: agentRegion)
        ids.append(result.pointee.id)
        startedAt.append(Int64(result.pointee.startedAt.timeIntervalSince1970 * 1000))
        agents.append(agent)
        checks.append(key.check)
        steps.append(result.pointee.step ?? "")
        regions.append(key.region)
        profiles.append(key.profile)
        classes.append(key.endpointClass)
        ok.append(result.pointee.ok)
        errorCodes.append(result.pointee.error?.code.rawValue ?? "")
        totals.append(result.pointee.phases.total)
    }

    /// The days (since 1970) the results started on: the partitions they go to.
    package var days: Set<Int64> { Set(startedAt.map { $0.floorDivided(by: 86_400_000) }) }

    package var count: Int { startedAt.count }
}

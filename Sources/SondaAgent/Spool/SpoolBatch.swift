import Foundation
import SondaCore

/// One sealed batch file of the spool, to be sent as one batch and then acknowledged.
public struct SpoolBatch: Hashable, Sendable {
    /// The batch file's name: the same every time the batch is returned, across restarts too. The wire's
    /// `batch_id`.
    public var id: String
    /// The results as the JSON objects the spool holds, separated by commas (a JSON array's
    /// contents), sent as they are: the agent never decodes its own results again.
    public var objects: [UInt8]
    public var count: Int

    /// The results decoded (for tests and tools; the reporter sends `objects`).
    public var results: [ProbeResult] {
        (try? ResultJSON.decoder().decode([ProbeResult].self, from: Data([UInt8(ascii: "[")] + objects + [UInt8(ascii: "]")])))
            ?? []
    }
}

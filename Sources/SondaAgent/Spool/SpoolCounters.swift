import Foundation

/// The spool's counts that must outlive the process, kept in `state.json` next to the batch files.
/// Keys a version before this one did not write read as 0.
struct SpoolCounters: Decodable, Hashable {
    static let file = "state.json"

    /// Results dropped by the size cap since the spool was created.
    var droppedTotal = 0
    /// How many of those a heartbeat the aggregator acknowledged has carried.
    var droppedReported = 0
    /// Results set aside in `quarantine/` because the aggregator refused them for good.
    var quarantinedTotal = 0
    /// Quarantine files written (a whole batch file, or the refused part of one).
    var quarantinedBatches = 0
    /// How many of `quarantinedTotal` an acknowledged heartbeat has carried.
    var quarantinedReported = 0

    enum CodingKeys: String, CodingKey {
        case droppedTotal = "dropped_total"
        case droppedReported = "dropped_reported"
        case quarantinedTotal = "quarantined_total"
        case quarantinedBatches = "quarantined_batches"
        case quarantinedReported = "quarantined_reported"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        droppedTotal = try c.decode(Int.self, forKey: .droppedTotal)
        droppedReported = try c.decode(Int.self, forKey: .droppedReported)
        quarantinedTotal = try c.decodeIfPresent(Int.self, forKey: .quarantinedTotal) ?? 0
        quarantinedBatches = try c.decodeIfPresent(Int.self, forKey: .quarantinedBatches) ?? 0
        quarantinedReported = try c.decodeIfPresent(Int.self, forKey: .quarantinedReported) ?? 0
    }

    static func load(from directory: SpoolDirectory) throws(SpoolError) -> SpoolCounters {
        guard let bytes = try directory.contents(of: file) else { return SpoolCounters() }
        do {
            return try JSONDecoder().decode(SpoolCounters.self, from: Data(bytes))
        } catch {
            throw SpoolError(.unreadableState, "spool: cannot read '\(directory.path(of: file))': \(error)")
        }
    }

    func save(to directory: SpoolDirectory) throws(SpoolError) {
        let text =
            "{\"dropped_reported\":\(droppedReported),\"dropped_total\":\(droppedTotal),"
            + "\"quarantined_batches\":\(quarantinedBatches),\"quarantined_reported\":\(quarantinedReported),"
            + "\"quarantined_total\":\(quarantinedTotal)}\n"
        try directory.replace(Self.file, with: Array(text.utf8))
    }
}

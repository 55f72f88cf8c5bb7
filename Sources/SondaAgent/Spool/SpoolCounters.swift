import Foundation

/// The spool's counts that must outlive the process, kept in `state.json` next to the segments.
struct SpoolCounters: Decodable, Hashable {
    static let file = "state.json"

    /// Results dropped by the size cap since the spool was created.
    var droppedTotal = 0
    /// How many of those were already handed to a heartbeat.
    var droppedReported = 0

    enum CodingKeys: String, CodingKey {
        case droppedTotal = "dropped_total"
        case droppedReported = "dropped_reported"
    }

    static func load(from directory: SegmentDirectory) throws(SpoolError) -> SpoolCounters {
        guard let bytes = try directory.contents(of: file) else { return SpoolCounters() }
        do {
            return try JSONDecoder().decode(SpoolCounters.self, from: Data(bytes))
        } catch {
            throw SpoolError(.unreadableState, "spool: cannot read '\(directory.path(of: file))': \(error)")
        }
    }

    func save(to directory: SegmentDirectory) throws(SpoolError) {
        let text = "{\"dropped_reported\":\(droppedReported),\"dropped_total\":\(droppedTotal)}\n"
        try directory.replace(Self.file, with: Array(text.utf8))
    }
}

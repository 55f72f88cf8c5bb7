import Foundation
import SondaCore

/// A segment's contents: one `ProbeResult` per line, as `ResultJSONWriter` writes them.
enum SegmentLines {
    /// The results as lines, and where each line ends in the bytes.
    static func encode(_ results: [ProbeResult]) -> (bytes: [UInt8], ends: [Int]) {
        var writer = ResultJSONWriter()
        var bytes: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(results.count)
        for result in results {
            bytes.append(contentsOf: writer.line(result))
            ends.append(bytes.count)
        }
        return (bytes, ends)
    }

    /// The length of the complete lines: everything up to and including the last newline. What
    /// follows is a line torn by a crash mid-write.
    static func completeLength(_ bytes: [UInt8]) -> Int {
        guard let last = bytes.lastIndex(of: 0x0A) else { return 0 }
        return last + 1
    }

    static func count(_ bytes: [UInt8]) -> Int {
        bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// The results of every line that decodes, and how many non-empty lines did not (corrupt, or torn
    /// at the end).
    static func decode(_ bytes: [UInt8]) -> (results: [ProbeResult], unreadable: Int) {
        let decoder = ResultJSON.decoder()
        var results: [ProbeResult] = []
        var unreadable = 0
        let complete = completeLength(bytes)
        if complete < bytes.count { unreadable += 1 }
        var start = 0
        while start < complete {
            let end = bytes[start..<complete].firstIndex(of: 0x0A)!
            if end > start {
                if let result = try? decoder.decode(ProbeResult.self, from: Data(bytes[start..<end])) {
                    results.append(result)
                } else {
                    unreadable += 1
                }
            }
            start = end + 1
        }
        return (results, unreadable)
    }
}

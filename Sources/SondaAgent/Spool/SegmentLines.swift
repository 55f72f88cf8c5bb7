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

    /// Every complete JSON object line, and how many non-empty lines were not one (corrupt, or torn
    /// at the end). Lines are checked for shape (balanced braces outside strings), not decoded: the
    /// agent only writes them with `ResultJSONWriter`, and the aggregator decodes what it receives.
    static func split(_ bytes: [UInt8]) -> (lines: [[UInt8]], unreadable: Int) {
        var lines: [[UInt8]] = []
        var unreadable = 0
        let complete = completeLength(bytes)
        if complete < bytes.count { unreadable += 1 }
        var start = 0
        while start < complete {
            let end = bytes[start..<complete].firstIndex(of: 0x0A)!
            if end > start {
                if isCompleteObject(bytes[start..<end]) {
                    lines.append(Array(bytes[start..<end]))
                } else {
                    unreadable += 1
                }
            }
            start = end + 1
        }
        return (lines, unreadable)
    }

    /// A `{…}` whose braces and brackets balance outside strings and that ends where it closes.
    /// Every batch the reporter sends is read back through this, so it is a tight loop over the
    /// bytes (it was 6 % of the daemon's instructions as a loop over an enumerated slice).
    static func isCompleteObject(_ line: ArraySlice<UInt8>) -> Bool {
        line.withUnsafeBufferPointer { bytes in
            guard bytes.first == UInt8(ascii: "{") else { return false }
            var depth = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case 0x22:  // skip the string, escapes included
                    while index < bytes.count {
                        let inString = bytes[index]
                        index += inString == 0x5C ? 2 : 1
                        if inString == 0x22 { break }
                    }
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index == bytes.count }
                case 0x00: return false
                default: break
                }
            }
            return false
        }
    }
}

import Foundation
import SondaCore

/// A batch file's contents: one `ProbeResult` per line, as `ResultJSONWriter` writes them.
enum BatchFileLines {
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

    /// Every complete JSON object line, as one run separated by commas (a JSON array's contents,
    /// which the reporter splices into the batch as they are), how many there are, and how many
    /// non-empty lines were not one (corrupt, or torn at the end). Lines are checked for shape
    /// (balanced braces outside strings), not decoded: the agent only writes them with
    /// `ResultJSONWriter`, and the aggregator decodes what it receives. One copy of the batch file:
    /// an array per line, copied again into the body, was a tenth of the reporter's instructions.
    static func join(_ bytes: [UInt8]) -> (objects: [UInt8], count: Int, unreadable: Int) {
        var objects: [UInt8] = []
        objects.reserveCapacity(bytes.count)
        var count = 0
        var unreadable = 0
        let complete = completeLength(bytes)
        if complete < bytes.count { unreadable += 1 }
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < complete {
                let newline = memchr(base + start, 0x0A, complete - start)!
                let end = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if !line.isEmpty {
                    if isCompleteObject(line) {
                        if count > 0 { objects.append(UInt8(ascii: ",")) }
                        objects.append(contentsOf: line)
                        count += 1
                    } else {
                        unreadable += 1
                    }
                }
                start = end + 1
            }
        }
        return (objects, count, unreadable)
    }

    /// A `{…}` whose braces and brackets balance outside strings and that ends where it closes.
    /// Every batch the reporter sends is read back through this, so it is a tight loop over the
    /// bytes (it was 6 % of the daemon's instructions as a loop over an enumerated slice).
    static func isCompleteObject(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        objectEnd(in: bytes, from: 0) == bytes.count
    }

    /// Where each object of a batch's `objects` (JSON objects separated by commas, as `join` and
    /// the spool's in-memory copy make them) starts and ends, so a batch can be sent in parts. Nil
    /// if they are not such a run.
    static func objectRanges(_ objects: [UInt8]) -> [Range<Int>]? {
        objects.withUnsafeBufferPointer { buffer -> [Range<Int>]? in
            var ranges: [Range<Int>] = []
            var start = 0
            while start < buffer.count {
                guard let end = objectEnd(in: buffer, from: start) else { return nil }
                ranges.append(start..<end)
                guard end < buffer.count else { break }
                guard buffer[end] == UInt8(ascii: ",") else { return nil }
                start = end + 1
            }
            return ranges
        }
    }

    /// One past the `}` that closes the object starting at `start`, or nil if there is no object
    /// there or it does not close.
    static func objectEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count, bytes[start] == UInt8(ascii: "{") else { return nil }
        var depth = 0
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case 0x22:
                // Past the closing quote: the first one after an even run of backslashes, found
                // with memchr, as strings are most of a result's bytes.
                let opened = index
                while true {
                    guard index < bytes.count, let quote = memchr(base + index, 0x22, bytes.count - index) else {
                        return nil
                    }
                    let at = base.distance(to: quote.assumingMemoryBound(to: UInt8.self))
                    var backslashes = 0
                    while at - 1 - backslashes >= opened && bytes[at - 1 - backslashes] == 0x5C { backslashes += 1 }
                    index = at + 1
                    if backslashes % 2 == 0 { break }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return index }
            case 0x00: return nil
            default: break
            }
        }
        return nil
    }
}

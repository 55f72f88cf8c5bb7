import Foundation
import NIOCore
import PostgresNIO

/// Each result's JSON text as the agent sent it, which the stores keep as is: the request body and
/// each result's range in it, so that PostgreSQL's ingest copies each text once, from the body
/// into its statement (`TextArray`), instead of making a String of each and encoding that again.
public struct RawResults: RandomAccessCollection, Sendable {
    let body: Data
    let ranges: [Range<Int>]

    /// `ranges` are offsets from the body's first byte, each holding valid UTF-8.
    init(body: Data, ranges: [Range<Int>]) {
        self.body = body
        self.ranges = ranges
    }

    /// The texts given one by one (tests, benchmarks).
    public init(_ texts: [String]) {
        var body = Data()
        var ranges: [Range<Int>] = []
        for text in texts {
            ranges.append(body.count..<body.count + text.utf8.count)
            body.append(contentsOf: text.utf8)
        }
        self.init(body: body, ranges: ranges)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ranges.count }

    public subscript(index: Int) -> String {
        body.withUnsafeBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[ranges[index]]), as: UTF8.self) }
    }

    /// Appends every text to `array`, in order.
    func append(to array: inout TextArray) {
        body.withUnsafeBytes { bytes in
            for range in ranges { array.append(UnsafeRawBufferPointer(rebasing: bytes[range])) }
        }
    }
}

/// A `text[]` parameter written text by text into one buffer, in PostgreSQL's binary array format.
package struct TextArray: PostgresNonThrowingEncodable, Sendable {
    private var elements = ByteBuffer()
    package private(set) var count = 0

    package init() {}

    package static var psqlType: PostgresDataType { .textArray }
    package static var psqlFormat: PostgresFormat { .binary }

    /// Appends one text, which must be valid UTF-8.
    mutating func append(_ utf8: UnsafeRawBufferPointer) {
        elements.writeInteger(Int32(utf8.count))
        elements.writeBytes(utf8)
        count += 1
    }

    package func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        // Dimensions (none when empty), no nulls, the element type, then the one dimension's
        // length and lower bound (as postgres-nio's own array encoding writes them).
        buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)
        buffer.writeInteger(0, as: Int32.self)
        buffer.writeInteger(PostgresDataType.text.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(1, as: Int32.self)
        buffer.writeImmutableBuffer(elements)
    }
}

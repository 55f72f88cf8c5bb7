import Foundation
import NIOCore
import PostgresNIO

/// Each result's JSON text as the agent sent it, which the stores keep as is: the request body and
/// each result's range in it. PostgreSQL's ingest binds them as one `text[]` parameter written
/// straight from the body, so each text is copied once into the statement, instead of being made
/// into a String and encoded again element by element.
public struct RawResults: RandomAccessCollection, PostgresNonThrowingEncodable, Sendable {
    let body: Data
    let ranges: [Range<Int>]
    /// Where each result's `tls` object is in the body (nil for a result without one), when the
    /// batch reader recorded it; nil for texts given one by one.
    let tlsRanges: [Range<Int>?]?

    /// `ranges` are offsets from the body's first byte, each holding valid UTF-8; so are `tlsRanges`.
    init(body: Data, ranges: [Range<Int>], tlsRanges: [Range<Int>?]? = nil) {
        self.body = body
        self.ranges = ranges
        self.tlsRanges = tlsRanges
    }

    /// The texts given one by one (tests, benchmarks).
    public init(_ texts: [String]) {
        self.init(texts.map { Array($0.utf8) })
    }

    /// Texts of valid UTF-8.
    init(_ texts: [[UInt8]]) {
        var body = Data()
        var ranges: [Range<Int>] = []
        for text in texts {
            ranges.append(body.count..<body.count + text.count)
            body.append(contentsOf: text)
        }
        self.init(body: body, ranges: ranges)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ranges.count }

    public subscript(index: Int) -> String {
        body.withUnsafeBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[ranges[index]]), as: UTF8.self) }
    }

    public static var psqlType: PostgresDataType { .textArray }
    public static var psqlFormat: PostgresFormat { .binary }

    public func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        TextArray.writeHeader(count: ranges.count, into: &buffer)
        // One growth of the statement's buffer instead of a doubling (and a copy) every few texts.
        buffer.reserveCapacity(minimumWritableBytes: ranges.reduce(4 * ranges.count) { $0 + $1.count })
        body.withUnsafeBytes { bytes in
            for range in ranges {
                buffer.writeInteger(Int32(range.count))
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
    }
}

extension RawResults {
    /// The results' TLS reports for PostgreSQL's `tls_json` column (the v10 migration): each
    /// `tls` object's text as sent, '' for a result without one. Where the reader did not record
    /// them, an empty array, which a multi-array `UNNEST` pads with NULL: "not extracted", and
    /// readers parse the stored JSON instead.
    var tlsTexts: TLSTexts { TLSTexts(raw: self) }

    struct TLSTexts: PostgresNonThrowingEncodable, Sendable {
        let raw: RawResults

        static var psqlType: PostgresDataType { .textArray }
        static var psqlFormat: PostgresFormat { .binary }

        func encode<JSONEncoder: PostgresJSONEncoder>(
            into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
        ) {
            guard let tlsRanges = raw.tlsRanges else { return TextArray.writeHeader(count: 0, into: &buffer) }
            TextArray.writeHeader(count: tlsRanges.count, into: &buffer)
            raw.body.withUnsafeBytes { bytes in
                for range in tlsRanges {
                    guard let range else {
                        buffer.writeInteger(Int32(0))
                        continue
                    }
                    buffer.writeInteger(Int32(range.count))
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range]))
                }
            }
        }
    }
}

/// A `text[]` parameter written text by text into one buffer: each String is copied once, with no
/// per-element work at encoding.
package struct TextArray: PostgresNonThrowingEncodable, Sendable {
    private var elements = ByteBuffer()
    package private(set) var count = 0

    package init() {}

    package static var psqlType: PostgresDataType { .textArray }
    package static var psqlFormat: PostgresFormat { .binary }

    mutating func append(_ text: String) {
        let lengthAt = elements.writerIndex
        elements.writeInteger(Int32(0))
        let length = elements.writeString(text)
        elements.setInteger(Int32(length), at: lengthAt)
        count += 1
    }

    package func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        Self.writeHeader(count: count, into: &buffer)
        buffer.writeImmutableBuffer(elements)
    }

    /// PostgreSQL's binary array header for `count` texts (or other elements): dimensions (none
    /// when empty), no nulls, the element type, then the one dimension's length and lower bound (as
    /// postgres-nio writes its own arrays).
    static func writeHeader(count: Int, of element: PostgresDataType = .text, into buffer: inout ByteBuffer) {
        buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)
        buffer.writeInteger(0, as: Int32.self)
        buffer.writeInteger(element.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(1, as: Int32.self)
    }
}

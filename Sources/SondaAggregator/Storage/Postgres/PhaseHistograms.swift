import Foundation
import NIOCore
import PostgresNIO
import SondaCore

/// PostgreSQL's latency tables hold one row per batch and key with a histogram column per phase
/// (`LatencyHistogram.serialized`, empty where the phase has none), not a row per phase: ingest
/// inserts, indexes and compacts 7 × fewer rows (the rows per phase were most of what ingest cost
/// beyond storing the results, see docs/performance.md), and a reader still fetches only the
/// phases it asks for. A phase this version adds is a new column, in a new migration.
enum PhaseHistograms {
    /// The columns v7 created. A phase added to `PhaseTimings.Phase` needs a migration that adds
    /// its column, and its place here (a test compares this list with `allCases`).
    static let phases: [PhaseTimings.Phase] = [.dns, .connect, .proxy, .tls, .send, .wait, .receive, .total]

    /// The columns, in `phases`' order: "dns, connect, …, total".
    static let columns = phases.map(\.rawValue).joined(separator: ", ")

    /// The column of each phase, from a per-phase row's phase and histogram columns: that phase's
    /// column holds the histogram, the others are empty. How rows of the row-per-phase layout (the
    /// v7 migration, a SQLite file's rows in `migrate`) become rows of this one.
    static func columns(fromPhase phase: String, histogram: String) -> [String] {
        phases.map { "CASE WHEN \(phase) = '\($0.rawValue)' THEN \(histogram) ELSE ''::bytea END" }
    }
}

/// One phase's histograms as a `bytea[]` parameter, each serialized straight into the statement
/// (a `[UInt8]` and a `ByteBuffer` for each of them were 2 allocations per row and phase).
struct HistogramColumn: PostgresNonThrowingEncodable, Sendable {
    let histograms: [LatencyHistogram]

    init(_ histograms: [LatencyHistogram]) { self.histograms = histograms }

    static var psqlType: PostgresDataType { .byteaArray }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        TextArray.writeHeader(count: histograms.count, of: .bytea, into: &buffer)
        for histogram in histograms {
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            histogram.serialize { buffer.writeInteger($0) }
            buffer.setInteger(Int32(buffer.writerIndex - lengthAt - 4), at: lengthAt)
        }
    }
}

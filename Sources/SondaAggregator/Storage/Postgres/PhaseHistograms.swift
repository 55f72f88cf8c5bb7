import Foundation
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

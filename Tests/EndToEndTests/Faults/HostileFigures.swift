import Foundation

/// One row of the second table of `make faults` (docs/reliability.md): a scenario that runs the
/// agent on loopback (hostile targets, a SIGHUP storm) and counts, from its results, what went
/// wrong. `record()` appends it to `$SONDA_FAULTS_REPORT` beside the `FaultFigures` rows.
struct HostileFigures: Codable, CustomStringConvertible {
    var kind = "agent"
    var scenario: String
    /// Results the receiver got.
    var results: Int
    /// Results with another error code than the scenario expects, or of a check that should not run.
    var wrong: Int
    /// Results that took longer than their check's timeout.
    var overTimeout: Int
    /// Runs of a check beyond one per interval (`extraRuns`), summed over the checks.
    var doubleRuns: Int
    /// How far the well-behaved checks' starts moved from their slots (the largest), in ms.
    var driftMilliseconds: Double?
    var peakMegabytes: Double
    /// The agent before and after the fault, at rest: RSS (MB), open descriptors, threads.
    var before: ProcessSample?
    var after: ProcessSample?
    var notes: String

    func record() { FaultReport.append(self) }

    var description: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }

    /// How far each start strayed, in ms: its distance from the check's median phase (a start
    /// less a whole number of intervals).
    static func deviations(_ starts: [Double], interval: Double) -> [Double] {
        guard let first = starts.first else { return [] }
        let phases = starts.map { start in
            start - first - ((start - first) / interval).rounded() * interval
        }
        let median = phases.sorted()[phases.count / 2]
        return phases.map { abs($0 - median) * 1000 }
    }

    /// Runs between `from` and `to` beyond one per interval: a check run on schedule runs span /
    /// interval + 1 times in a span (rounded: its first and last run may be a little late or early).
    /// A run late for its slot on a loaded machine, followed by the next on time, is not one: two
    /// starts close together alone do not make a double run.
    static func extraRuns(_ starts: [Double], interval: Double, from: Double, to: Double) -> Int {
        let runs = starts.filter { $0 >= from && $0 <= to }.count
        return max(0, runs - (Int(((to - from) / interval).rounded()) + 1))
    }
}

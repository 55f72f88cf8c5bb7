import Foundation

/// One row of `make faults`' table (docs/reliability.md): what a scenario's agent produced by its own
/// account, what the aggregator stored, and what went wrong. `record()` appends it as a JSON line to
/// `$SONDA_FAULTS_REPORT`, which `faults/table` prints.
struct FaultFigures: Codable, CustomStringConvertible {
    var scenario: String
    var produced: Int
    var stored: Int
    /// Produced, not stored, and not counted as dropped by the agent.
    var lost: Int
    /// Rows that repeat a probe already stored.
    var duplicated: Int
    /// Dropped by the agent and counted (`sonda_spool_dropped_total`, `sonda_spool_unwritten_total`).
    var dropped: Int
    var falsePages: Int
    var missedPages: Int
    /// From the fault's end until everything produced was stored.
    var recoverySeconds: Double?
    var peakAgentMegabytes: Double
    var peakAggregatorMegabytes: Double
    var notes: String

    func record() { FaultReport.append(self) }

    var description: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }
}

/// `$SONDA_FAULTS_REPORT`: the JSON lines `faults/table` prints, one a scenario.
enum FaultReport {
    static func append(_ row: some Encodable) {
        guard let path = ProcessInfo.processInfo.environment["SONDA_FAULTS_REPORT"], !path.isEmpty,
            let line = try? JSONEncoder().encode(row)
        else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = (line + [0x0A]).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

/// How long the faults last: as issue 19 asks with `SONDA_FAULTS=full` (`make faults`), shorter in
/// `make test`, where the suite must take minutes.
enum FaultLength {
    static let full = ProcessInfo.processInfo.environment["SONDA_FAULTS"] == "full"

    static var partition: Duration { full ? .seconds(300) : .seconds(20) }
    /// 90 s each (loss, latency, the two stalls: two 40 s holds and several timeouts of the agent's)
    /// rather than 120: the one full run of every scenario took 32.5 minutes under load.
    static var impairment: Duration { full ? .seconds(90) : .seconds(15) }
    static var stall: Duration { full ? .seconds(90) : .seconds(15) }
    static var diskFull: Duration { full ? .seconds(60) : .seconds(10) }
    /// Two minutes of hostile targets (480 canary starts), so `make faults` stays under 30 minutes.
    static var hostile: Duration { full ? .seconds(120) : .seconds(12) }
    /// How long a SIGHUP storm's agent runs on after it, in intervals of its checks.
    static var afterStorm: Int { full ? 6 : 2 }
    static var certificate: Duration { full ? .seconds(60) : .seconds(10) }
    /// Under a 64 kbit/s limit: long enough for several batches that each take longer than 10 s
    /// (three minutes keep `make faults` under 30).
    static var bandwidth: Duration { .seconds(180) }
}

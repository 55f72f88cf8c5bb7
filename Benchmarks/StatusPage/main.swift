import Foundation
import GRDB
import RollupFill
import SondaAggregator
import SondaConfig
import SondaCore

/// The status pages over a fleet-sized database: 1 000 agents in 10 regions, 20 checks in 5
/// classes, 3 profiles. Rollups are written directly, as ingest would leave them: minute rows for
/// the last hour of every check and the last day of one (the check whose page is timed), hour rows
/// for 7 days, day rows for 30, and each check's latest raw results with their TLS report.
/// Prints the p50 and p95 time to render `/` (1h, 24h and 7d windows) and `/checks/{name}`.
/// With `--postgres URL` the same rows also go to that database (`--pg-copies N`: each latency
/// row N times, as N batches appending to a key leave it), and each page is timed on both
/// stores alternately.
/// Usage: status-page-bench [DATABASE] [--postgres URL [--pg-copies N]]
let arguments = try BenchArguments(CommandLine.arguments)
let path = arguments.sqlitePath ?? NSTemporaryDirectory() + "status-bench-\(getpid()).sqlite"
let store = try SQLiteStore(path: path)
let sqlite = SQLiteRollupFill(store: store)
var postgres: PostgresRollupFill?
if let url = arguments.postgres { postgres = try await PostgresRollupFill(url: url) }
let copies = arguments.postgresCopies
let regions = (0..<10).map { "region_\($0)" }
let profiles = ["desktop_brazil", "mobile_4g_brazil", "mobile_3g_brazil"]
let classes = ["authentication", "patient_data", "appointment_booking", "treatment_planning", "reporting"]
let checks = (0..<20).map { (name: "check-\($0)", endpointClass: classes[$0 % classes.count]) }
let timedCheck = checks[0].name
let now = Date()
let nowMinute = Int64(now.timeIntervalSince1970 / 60)
func histogram(_ base: Double, samples: Int) -> Data {
    var generator = SystemRandomNumberGenerator()
    var h = LatencyHistogram()
    for _ in 0..<40 {
        h.record(milliseconds: base * Double.random(in: 0.6...2.5, using: &generator), count: UInt64(samples / 40))
    }
    return Data(h.serialized)
}

let generation = ContinuousClock.now
for minuteOffset in 0..<1440 {
    var latency = LatencyRows()
    var outcomes = OutcomeRows()
    let minute = nowMinute - Int64(minuteOffset)
    for check in (minuteOffset < 60 ? checks : [checks[0]]) {
        for region in regions {
            for profile in profiles {
                for phase in PhaseTimings.Phase.allCases {
                    latency.append(
                        bucket: minute, region: region, profile: profile, check: check.name,
                        endpointClass: check.endpointClass, phase: phase.rawValue, count: 100,
                        histogram: histogram(phase == .total ? 120.0 : 8.0, samples: 100))
                }
                outcomes.append(
                    bucket: minute, region: region, profile: profile, check: check.name,
                    endpointClass: check.endpointClass, errorCode: "", count: 99)
                outcomes.append(
                    bucket: minute, region: region, profile: profile, check: check.name,
                    endpointClass: check.endpointClass, errorCode: "timeout", count: 1)
            }
        }
    }
    try await sqlite.insert(latency, into: "latency_minute")
    try await sqlite.insert(outcomes, into: "outcome_minute")
    try await postgres?.insert(latency, into: "latency_minute", copies: copies)
    try await postgres?.insert(outcomes, into: "outcome_minute")
}
/// Hour or day rollups for `buckets` buckets back: `samples` latencies per class and phase, and
/// per check `ok` successes and `failed` timeouts.
func fillRollups(unit: String, now: Int64, buckets: Int, samples: Int, ok: Int64, failed: Int64) async throws {
    for offset in 0..<buckets {
        var latency = LatencyRows()
        var outcomes = OutcomeRows()
        let bucket = now - Int64(offset)
        for region in regions {
            for profile in profiles {
                for endpointClass in classes {
                    for phase in PhaseTimings.Phase.allCases {
                        latency.append(
                            bucket: bucket, region: region, profile: profile, endpointClass: endpointClass,
                            phase: phase.rawValue, count: Int64(samples),
                            histogram: histogram(phase == .total ? 120 : 8, samples: samples))
                    }
                }
                for check in checks {
                    outcomes.append(
                        bucket: bucket, region: region, profile: profile, check: check.name,
                        endpointClass: check.endpointClass, errorCode: "", count: ok)
                    outcomes.append(
                        bucket: bucket, region: region, profile: profile, check: check.name,
                        endpointClass: check.endpointClass, errorCode: "timeout", count: failed)
                }
            }
        }
        try await sqlite.insert(latency, into: "latency_\(unit)")
        try await sqlite.insert(outcomes, into: "outcome_\(unit)")
        try await postgres?.insert(latency, into: "latency_\(unit)", copies: copies)
        try await postgres?.insert(outcomes, into: "outcome_\(unit)")
    }
}
let nowHour = nowMinute / 60
try await fillRollups(unit: "hour", now: nowHour, buckets: 7 * 24, samples: 24_000, ok: 5_990, failed: 10)
try await fillRollups(unit: "day", now: nowHour / 24, buckets: 30, samples: 576_000, ok: 143_800, failed: 200)
// Each check's latest raw results (what the certificate list and the failures table read).
let agents = (0..<1000).map {
    AggregatorConfig.Agent(id: "agent-\($0)", region: regions[$0 % 10], publicKey: Data(count: 32))
}
var results: [(result: ProbeResult, json: String)] = []
let encoder = ResultJSON.encoder()
for check in checks {
    for i in 0..<300 {
        let agent = agents[i % agents.count]
        let at = now.addingTimeInterval(-Double(i) * 0.2)
        let failed = i % 50 == 0
        let leaf = CertificateInfo(
            subject: "CN=\(check.name).example", issuer: "CN=CA", sans: ["\(check.name).example"],
            notBefore: now.addingTimeInterval(-86_400 * 60), notAfter: now.addingTimeInterval(86_400 * 30),
            sha256: "00",
            spkiSHA256: "AA==")
        let result = ProbeResult(
            check: check.name, agent: agent.id, region: agent.region, profile: profiles[i % 3],
            endpointClass: check.endpointClass, startedAt: at,
            error: failed ? ProbeError(.timeout, "no response within 5 s") : nil, phases: PhaseTimings(total: 120),
            tls: TLSReport(version: "TLSv1.3", cipher: nil, verified: true, leaf: leaf, chain: [], now: at))
        results.append((result, String(decoding: try encoder.encode(result), as: UTF8.self)))
    }
}
var heartbeats = AgentRows()
for agent in agents {
    heartbeats.append(
        id: agent.id, region: agent.region,
        lastSeenMilliseconds: Int64(now.timeIntervalSince1970 * 1000) - Int64.random(in: 0...400_000))
}
try await store.pool.write { db in
    let insert = try db.cachedStatement(
        sql: "INSERT OR REPLACE INTO results VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)")
    for (result, json) in results {
        try insert.execute(arguments: [
            result.id, result.agent, result.check, result.region, result.profile, result.endpointClass,
            Int64(result.startedAt.timeIntervalSince1970 * 1000), result.ok, result.error?.code.rawValue, 120.0, json,
        ])
    }
    for (id, (region, seen)) in zip(heartbeats.ids, zip(heartbeats.regions, heartbeats.lastSeenMilliseconds)) {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO agents
                    (id, region, last_seen_ms, version, config_hash, spool_depth, dropped_total, batches, results)
                VALUES (?, ?, ?, '0.1.0', 'abc', 0, 0, 1, 1)
                """,
            arguments: [id, region, seen])
    }
}
if let postgres {
    // Grouped by agent, as their batches would bring them.
    for (agent, sent) in Dictionary(grouping: results, by: { $0.result.agent ?? "" }) {
        try await postgres.insert(
            ResultColumns(sent.map(\.result), agent: agent, agentRegion: "", rawResults: RawResults(sent.map(\.json))))
    }
    try await postgres.insert(heartbeats)
    try await postgres.analyze()
}
let rules =
    classes.enumerated().map { i, c in BudgetRule(endpointClass: c, limit: .milliseconds(100 + 100 * i)) }
    + [BudgetRule(profile: "mobile_3g_brazil", limit: .milliseconds(3500))]
let config = AggregatorConfig(database: path, agents: agents, budgets: rules)
let pages =
    [("", StatusPage(config: config, store: store, now: { now }))]
    + (postgres.map { [("pg_", StatusPage(config: config, store: $0.store, now: { now }))] } ?? [])
let rows = try await store.pool.read { db in
    try ["latency_minute", "outcome_minute", "latency_hour", "outcome_hour", "latency_day", "outcome_day"].reduce(0) {
        $0 + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($1)") ?? 0)
    }
}
print(
    "# \(rows) rollup rows generated in \((ContinuousClock.now - generation).components.seconds) s; \(agents.count) agents"
        + (postgres == nil ? "" : "; PostgreSQL has each latency row \(copies) times")
)

/// Renders with each store in turn, 12 times, and prints each store's p50 and p95 (the slowest of 12).
func time(_ name: String, target: String, _ render: (StatusPage) async throws -> StatusPage.Rendered) async throws {
    var samples = pages.map { _ in [Double]() }
    var bytes = pages.map { _ in 0 }
    for _ in 0..<12 {
        for (i, (_, page)) in pages.enumerated() {
            let start = ContinuousClock.now
            let rendered = try await render(page)
            samples[i].append(millisecondsSince(start))
            precondition(rendered.status == 200, "\(pages[i].0)\(name): \(rendered.status)")
            bytes[i] = rendered.html.utf8.count
        }
    }
    for (i, (prefix, _)) in pages.enumerated() {
        let sorted = samples[i].sorted()
        print(String(format: "# %@%@: %d KB of HTML", prefix, name, bytes[i] / 1024))
        print(String(format: "%@%@_p50_ms  %.1f", prefix, name, sorted[sorted.count / 2]))
        print(String(format: "%@%@_p95_ms  %.1f  %@", prefix, name, sorted[sorted.count - 1], target))
    }
}
try await time("status_page_1h", target: "<=1000ms") { try await $0.fleet(window: "1h") }
try await time("status_page_24h", target: "<=1000ms") { try await $0.fleet(window: "24h") }
try await time("status_page_7d", target: "<=1000ms") { try await $0.fleet(window: "7d") }
try await time("check_page_1h", target: "<=1000ms") { try await $0.check(name: timedCheck, window: "1h") }
try await time("check_page_24h", target: "<=1000ms") { try await $0.check(name: timedCheck, window: "24h") }
try await postgres?.close()
if arguments.sqlitePath == nil {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

import Foundation
import GRDB
import SondaAggregator
import SondaConfig
import SondaCore

/// The status pages over a fleet-sized database: 1 000 agents in 10 regions, 20 checks in 5
/// classes, 3 profiles. Rollups are written directly, as ingest would leave them: minute rows for
/// the last hour of every check and the last day of one (the check whose page is timed), hour rows
/// for 7 days, day rows for 30, and each check's latest raw results with their TLS report.
/// Prints the p50 and p95 time to render `/` (1h, 24h and 7d windows) and `/checks/{name}`.
/// Usage: status-page-bench [DATABASE]
let path =
    CommandLine.arguments.count > 1
    ? CommandLine.arguments[1] : NSTemporaryDirectory() + "status-bench-\(getpid()).sqlite"
let store = try SQLiteStore(path: path)
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
    try await store.pool.write { db in
        let latency = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO latency_minute VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        let outcome = try db.cachedStatement(sql: "INSERT OR REPLACE INTO outcome_minute VALUES (?, ?, ?, ?, ?, ?, ?)")
        let minute = nowMinute - Int64(minuteOffset)
        for check in (minuteOffset < 60 ? checks : [checks[0]]) {
            for region in regions {
                for profile in profiles {
                    for phase in PhaseTimings.Phase.allCases {
                        let base = phase == .total ? 120.0 : 8.0
                        try latency.execute(arguments: [
                            minute, region, profile, check.name, check.endpointClass, phase.rawValue, 100,
                            histogram(base, samples: 100),
                        ])
                    }
                    try outcome.execute(arguments: [minute, region, profile, check.name, check.endpointClass, "", 99])
                    try outcome.execute(arguments: [
                        minute, region, profile, check.name, check.endpointClass, "timeout", 1,
                    ])
                }
            }
        }
    }
}
/// Hour or day rollups for `buckets` buckets back: `samples` latencies per class and phase, and
/// per check `ok` successes and `failed` timeouts.
func fillRollups(unit: String, now: Int64, buckets: Int, samples: Int, ok: Int, failed: Int) async throws {
    for offset in 0..<buckets {
        try await store.pool.write { db in
            let latency = try db.cachedStatement(sql: "INSERT OR REPLACE INTO latency_\(unit) VALUES (?, ?, ?, ?, ?, ?, ?)")
            let outcome = try db.cachedStatement(sql: "INSERT OR REPLACE INTO outcome_\(unit) VALUES (?, ?, ?, ?, ?, ?, ?)")
            let bucket = now - Int64(offset)
            for region in regions {
                for profile in profiles {
                    for endpointClass in classes {
                        for phase in PhaseTimings.Phase.allCases {
                            try latency.execute(arguments: [
                                bucket, region, profile, endpointClass, phase.rawValue, samples,
                                histogram(phase == .total ? 120 : 8, samples: samples),
                            ])
                        }
                    }
                    for check in checks {
                        try outcome.execute(arguments: [bucket, region, profile, check.name, check.endpointClass, "", ok])
                        try outcome.execute(arguments: [
                            bucket, region, profile, check.name, check.endpointClass, "timeout", failed,
                        ])
                    }
                }
            }
        }
    }
}
let nowHour = nowMinute / 60
try await fillRollups(unit: "hour", now: nowHour, buckets: 7 * 24, samples: 24_000, ok: 5_990, failed: 10)
try await fillRollups(unit: "day", now: nowHour / 24, buckets: 30, samples: 576_000, ok: 143_800, failed: 200)
// Each check's latest raw results (what the certificate list and the failures table read).
let agents = (0..<1000).map {
    AggregatorConfig.Agent(id: "agent-\($0)", region: regions[$0 % 10], publicKey: Data(count: 32))
}
try await store.pool.write { db in
    let insert = try db.cachedStatement(
        sql: "INSERT OR REPLACE INTO results VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)")
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
            try insert.execute(arguments: [
                result.id, agent.id, check.name, agent.region, profiles[i % 3], check.endpointClass,
                Int64(at.timeIntervalSince1970 * 1000), !failed, failed ? "timeout" : nil, 120.0,
                String(decoding: try encoder.encode(result), as: UTF8.self),
            ])
        }
    }
    for agent in agents {
        try db.execute(
            sql: "INSERT OR REPLACE INTO agents VALUES (?, ?, ?, '0.1.0', 'abc', 0, 0, 1, 1)",
            arguments: [
                agent.id, agent.region, Int64(now.timeIntervalSince1970 * 1000) - Int64.random(in: 0...400_000),
            ])
    }
}
let rules =
    classes.enumerated().map { i, c in BudgetRule(endpointClass: c, limit: .milliseconds(100 + 100 * i)) }
    + [BudgetRule(profile: "mobile_3g_brazil", limit: .milliseconds(3500))]
let config = AggregatorConfig(database: path, agents: agents, budgets: rules)
let page = StatusPage(config: config, store: store, now: { now })
let rows = try await store.pool.read { db in
    try ["latency_minute", "outcome_minute", "latency_hour", "outcome_hour", "latency_day", "outcome_day"].reduce(0) {
        $0 + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($1)") ?? 0)
    }
}
print(
    "# \(rows) rollup rows generated in \((ContinuousClock.now - generation).components.seconds) s; \(agents.count) agents"
)

func time(_ name: String, target: String, _ render: () async throws -> StatusPage.Rendered) async throws {
    var samples: [Double] = []
    var bytes = 0
    for _ in 0..<12 {
        let start = ContinuousClock.now
        let rendered = try await render()
        let elapsed = (ContinuousClock.now - start).components
        samples.append(Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
        precondition(rendered.status == 200, "\(name): \(rendered.status)")
        bytes = rendered.html.utf8.count
    }
    samples.sort()
    print(String(format: "# %@: %d KB of HTML", name, bytes / 1024))
    print(String(format: "%@_p50_ms  %.1f", name, samples[samples.count / 2]))
    print(String(format: "%@_p95_ms  %.1f  %@", name, samples[samples.count - 1], target))
}
try await time("status_page_1h", target: "<=1000ms") { try await page.fleet(window: "1h") }
try await time("status_page_24h", target: "<=1000ms") { try await page.fleet(window: "24h") }
try await time("status_page_7d", target: "<=1000ms") { try await page.fleet(window: "7d") }
try await time("check_page_1h", target: "<=1000ms") { try await page.check(name: timedCheck, window: "1h") }
try await time("check_page_24h", target: "<=1000ms") { try await page.check(name: timedCheck, window: "24h") }
if CommandLine.arguments.count <= 1 {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

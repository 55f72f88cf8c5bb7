import Foundation
import GRDB
import SondaAggregator
import SondaCore

/// The budget query over 30 days for a simulated fleet: 1 000 agents in 10 regions × 20 checks in
/// 5 classes × 3 profiles, one probe a minute each, with hour rollups written directly (as ingest
/// would leave them). Prints the p50 and p95 of `GET /v1/budgets?window=30d`'s computation.
/// Usage: budget-query-bench DATABASE
let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "budget-bench.sqlite"
let store = try SQLiteStore(path: path)
let regions = (0..<10).map { "region_\($0)" }
let profiles = ["desktop_brazil", "mobile_4g_brazil", "mobile_3g_brazil"]
let classes = ["authentication", "patient_data", "appointment_booking", "treatment_planning", "reporting"]
let now = Date()
let nowHour = Int64(now.timeIntervalSince1970 / 3600)
var generator = SystemRandomNumberGenerator()
let generation = ContinuousClock.now
for hourOffset in 0..<(30 * 24) {
    try await store.pool.write { db in
        let insert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO latency_hour (hour, region, profile, class, phase, count, histogram) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for region in regions {
            for profile in profiles {
                for endpointClass in classes {
                    for phase in PhaseTimings.Phase.allCases {
                        var histogram = LatencyHistogram()
                        // 100 agents × 4 checks × 60 probes an hour, spread over ~60 buckets.
                        let base = phase == .total ? 120.0 : 8.0
                        for _ in 0..<60 {
                            histogram.record(
                                milliseconds: base * Double.random(in: 0.5...3, using: &generator), count: 400)
                        }
                        try insert.execute(arguments: [
                            nowHour - Int64(hourOffset), region, profile, endpointClass, phase.rawValue,
                            Int64(histogram.count), Data(histogram.serialized),
                        ])
                    }
                }
            }
        }
    }
}
// The day rollups ingest keeps alongside: each day's 24 hours.
let dayRows = try await store.pool.read { db in
    try Row.fetchAll(db, sql: "SELECT hour / 24 AS day, region, profile, class, phase, histogram FROM latency_hour")
}
var dayHistograms: [String: LatencyHistogram] = [:]
for row in dayRows {
    let key = "\(row[0] as Int64)|\(row[1] as String)|\(row[2] as String)|\(row[3] as String)|\(row[4] as String)"
    if let h = LatencyHistogram(serialized: row[5] as Data) { dayHistograms[key, default: LatencyHistogram()].merge(h) }
}
try await store.pool.write { db in
    for (key, h) in dayHistograms {
        let parts = key.split(separator: "|").map(String.init)
        try db.execute(
            sql: "INSERT OR REPLACE INTO latency_day VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [Int64(parts[0])!, parts[1], parts[2], parts[3], parts[4], Int64(h.count), Data(h.serialized)])
    }
}
let rules = classes.enumerated().map { i, c in BudgetRule(endpointClass: c, limit: .milliseconds(100 + 100 * i)) }
    + [BudgetRule(profile: "mobile_3g_brazil", limit: .milliseconds(3500))]
let evaluator = BudgetEvaluator(rules: rules)
var samples: [Double] = []
var cells = 0
for _ in 0..<20 {
    let start = ContinuousClock.now
    let report = try await evaluator.report(
        window: .seconds(30 * 86_400), windowText: "30d", filter: CellFilter(), now: now, from: store)
    let elapsed = (ContinuousClock.now - start).components
    samples.append(Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
    cells = report.cells.count
}
samples.sort()
let generated = (ContinuousClock.now - generation).components.seconds
print("# \(cells) cells; \(30 * 24 * regions.count * profiles.count * classes.count * 7) hour rows, \(dayHistograms.count) day rows (generated in \(generated) s)")
print(String(format: "budget_query_30d_p50_ms  %.1f", samples[samples.count / 2]))
print(String(format: "budget_query_30d_p95_ms  %.1f  <50", samples[Int(Double(samples.count) * 0.95) - 1]))

import Foundation
import GRDB
import RollupFill
import SondaAggregator
import SondaCore

/// The budget query over 30 days for a simulated fleet: 1 000 agents in 10 regions × 20 checks in
/// 5 classes × 3 profiles, one probe a minute each, with hour rollups written directly (as ingest
/// would leave them). Prints the p50 and p95 of `GET /v1/budgets?window=30d`'s computation.
/// With `--postgres URL` the same rows also go to that database (`--pg-copies N`: each latency
/// row N times, as N batches appending to a key leave it), and the query is timed on both stores
/// alternately.
/// Usage: budget-query-bench [DATABASE] [--postgres URL [--pg-copies N]]
let arguments = try BenchArguments(CommandLine.arguments)
let path = arguments.sqlitePath ?? "budget-bench.sqlite"
let store = try SQLiteStore(path: path)
let sqlite = SQLiteRollupFill(store: store)
var postgres: PostgresRollupFill?
if let url = arguments.postgres { postgres = try await PostgresRollupFill(url: url) }
let regions = (0..<10).map { "region_\($0)" }
let profiles = ["desktop_brazil", "mobile_4g_brazil", "mobile_3g_brazil"]
let classes = ["authentication", "patient_data", "appointment_booking", "treatment_planning", "reporting"]
let now = Date()
let nowHour = Int64(now.timeIntervalSince1970 / 3600)
var generator = SystemRandomNumberGenerator()
let generation = ContinuousClock.now
// The day rollups ingest keeps alongside: each day's 24 hours.
var dayHistograms: [String: LatencyHistogram] = [:]
for hourOffset in 0..<(30 * 24) {
    var rows = LatencyRows()
    let hour = nowHour - Int64(hourOffset)
    for region in regions {
        for profile in profiles {
            for endpointClass in classes {
                for phase in PhaseTimings.Phase.allCases {
                    var histogram = LatencyHistogram()
                    // 100 agents × 4 checks × 60 probes an hour, spread over ~60 buckets.
                    let base = phase == .total ? 120.0 : 8.0
                    for _ in 0..<60 {
                        histogram.record(milliseconds: base * Double.random(in: 0.5...3, using: &generator), count: 400)
                    }
                    rows.append(
                        bucket: hour, region: region, profile: profile, endpointClass: endpointClass,
                        phase: phase.rawValue, count: Int64(histogram.count), histogram: Data(histogram.serialized))
                    let key = "\(hour / 24)|\(region)|\(profile)|\(endpointClass)|\(phase.rawValue)"
                    dayHistograms[key, default: LatencyHistogram()].merge(histogram)
                }
            }
        }
    }
    try await sqlite.insert(rows, into: "latency_hour")
    try await postgres?.insert(rows, into: "latency_hour")
}
var dayRows = LatencyRows()
for (key, h) in dayHistograms {
    let parts = key.split(separator: "|").map(String.init)
    dayRows.append(
        bucket: Int64(parts[0])!, region: parts[1], profile: parts[2], endpointClass: parts[3], phase: parts[4],
        count: Int64(h.count), histogram: Data(h.serialized))
}
try await sqlite.insert(dayRows, into: "latency_day")
try await postgres?.insert(dayRows, into: "latency_day", copies: arguments.postgresCopies)
try await postgres?.analyze()
let generated = (ContinuousClock.now - generation).components.seconds

let rules =
    classes.enumerated().map { i, c in BudgetRule(endpointClass: c, limit: .milliseconds(100 + 100 * i)) }
    + [BudgetRule(profile: "mobile_3g_brazil", limit: .milliseconds(3500))]
let evaluator = BudgetEvaluator(rules: rules)
/// One 30-day report from `store`: its time in milliseconds and its number of cells.
func timeReport(_ store: any AggregatorStore) async throws -> (Double, Int) {
    let start = ContinuousClock.now
    let report = try await evaluator.report(
        window: .seconds(30 * 86_400), windowText: "30d", filter: CellFilter(), now: now, from: store)
    return (millisecondsSince(start), report.cells.count)
}
var samples: [Double] = []
var postgresSamples: [Double] = []
var cells = 0
for _ in 0..<20 {
    let (ms, n) = try await timeReport(store)
    samples.append(ms)
    cells = n
    if let postgres {
        let (ms, n) = try await timeReport(postgres.store)
        precondition(n == cells, "PostgreSQL reports \(n) cells, SQLite \(cells)")
        postgresSamples.append(ms)
    }
}
try await postgres?.close()
/// "name_p50_ms  …" and "name_p95_ms  …  target".
func printQuantiles(_ name: String, _ samples: [Double], target: String) {
    let sorted = samples.sorted()
    print(String(format: "%@_p50_ms  %.1f", name, sorted[sorted.count / 2]))
    print(String(format: "%@_p95_ms  %.1f  %@", name, sorted[Int(Double(sorted.count) * 0.95) - 1], target))
}
print(
    "# \(cells) cells; \(30 * 24 * regions.count * profiles.count * classes.count * 7) hour rows, \(dayHistograms.count) day rows (generated in \(generated) s)"
)
printQuantiles("budget_query_30d", samples, target: "<50")
if postgres != nil {
    print(
        "# PostgreSQL: each day row \(arguments.postgresCopies) times, \(dayHistograms.count * arguments.postgresCopies) rows"
    )
    printQuantiles("pg_budget_query_30d", postgresSamples, target: "<100")
}

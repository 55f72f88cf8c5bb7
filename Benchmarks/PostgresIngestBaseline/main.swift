import Foundation
import Logging
import PostgresNIO
import SondaAggregator
import SondaConfig
import SondaCore

/// The floor for bench/pg-ingest.sh: the same result rows inserted into the same `results` table
/// (the project's schema: `PostgresStore.open` migrates) with the same `UNNEST` clauses as
/// ingest (`PostgresStore.insertResults`), one transaction per batch, with no HTTP, no
/// signature, no JSON decoding, no rollups, no heartbeat and no audit entry. Rows are decoded and
/// their partitions created before the clock starts.
/// Usage: postgres-ingest-baseline URL ROWS.jsonl [CONNECTIONS [ROWS_PER_TRANSACTION]] —
/// CONNECTIONS loops (default 1), each on its own connection, take every CONNECTIONS-th
/// transaction of ROWS_PER_TRANSACTION rows (default 500, the benchmark's batch). Prints results/s,
/// then the CPU seconds (user + system) this process used while inserting.
let arguments = CommandLine.arguments
guard (3...5).contains(arguments.count), let url = try? PostgresURL(arguments[1]),
    let text = try? String(contentsOfFile: arguments[2], encoding: .utf8),
    let loops = arguments.count >= 4 ? Int(arguments[3]) : 1, loops > 0,
    let batch = arguments.count == 5 ? Int(arguments[4]) : 500, batch > 0
else {
    FileHandle.standardError.write(
        Data("usage: postgres-ingest-baseline postgres://… ROWS.jsonl [CONNECTIONS [ROWS_PER_TRANSACTION]]\n".utf8))
    exit(64)
}
var logger = Logger(label: "postgres-ingest-baseline")
logger.logLevel = .warning
let decoder = ResultJSON.decoder()
let lines = text.split(separator: "\n")
let results = try lines.map { try decoder.decode(ProbeResult.self, from: Data($0.utf8)) }
let transactions = stride(from: 0, to: results.count, by: batch).map { start in
    let end = min(start + batch, results.count)
    return ResultColumns(
        Array(results[start..<end]), agent: results[start].agent ?? "bench", agentRegion: "sao_paulo",
        rawResults: RawResults(lines[start..<end].map(String.init)))
}

let store = try await PostgresStore.open(url, logger: logger)
var configuration = PostgresConnection.Configuration(
    host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
configuration.options.connectTimeout = .seconds(5)
var connections: [PostgresConnection] = []
for id in 0..<loops {
    connections.append(try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger))
}
try await store.ensurePartitions(days: transactions.reduce(into: []) { $0.formUnion($1.days) }, on: connections[0])

let start = ContinuousClock.now
let cpuStart = clock()
let inserted = try await withThrowingTaskGroup(of: Int.self) { group in
    for (k, connection) in connections.enumerated() {
        group.addTask {
            var inserted = 0
            for rows in stride(from: k, to: transactions.count, by: loops).map({ transactions[$0] }) {
                inserted += try await connection.withTransaction(logger: logger) { connection in
                    try await PostgresStore.insertResults(rows, on: connection, logger: logger).count(of: rows.count)
                }
            }
            return inserted
        }
    }
    var total = 0
    for try await n in group { total += n }
    return total
}
let elapsed = (ContinuousClock.now - start).components
let cpuSeconds = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
for connection in connections { let _: Void = try await connection.close() }
await store.close()
guard inserted == results.count else {
    FileHandle.standardError.write(Data("inserted \(inserted) of \(results.count) rows (not a fresh database?)\n".utf8))
    exit(1)
}
print(String(format: "%.0f %.2f", Double(inserted) / seconds, cpuSeconds))

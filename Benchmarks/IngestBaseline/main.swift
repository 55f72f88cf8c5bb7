import Foundation
import GRDB

/// The floor for bench/ingest.sh: the same result rows inserted with GRDB in one transaction per
/// batch, WAL and synchronous=FULL, with no HTTP, no signature, no JSON decoding and no rollups.
/// Usage: ingest-baseline DATABASE ROWS-JSONL — each line a result object as the agents send it.
let arguments = CommandLine.arguments
guard arguments.count == 3, let text = try? String(contentsOfFile: arguments[2], encoding: .utf8) else {
    FileHandle.standardError.write(Data("usage: ingest-baseline DATABASE ROWS.jsonl\n".utf8))
    exit(64)
}
let lines = text.split(separator: "\n").map(String.init)
var configuration = Configuration()
configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
let pool = try DatabasePool(path: arguments[1], configuration: configuration)
try pool.write { db in
    try db.execute(
        sql: """
            CREATE TABLE IF NOT EXISTS results (
                id TEXT PRIMARY KEY NOT NULL, agent TEXT NOT NULL, check_name TEXT NOT NULL, step TEXT,
                region TEXT NOT NULL, profile TEXT NOT NULL, class TEXT NOT NULL, started_at_ms INTEGER NOT NULL,
                ok INTEGER NOT NULL, error_code TEXT, total_ms REAL NOT NULL, json TEXT NOT NULL)
            """)
}
let start = ContinuousClock.now
for chunk in stride(from: 0, to: lines.count, by: 500) {
    try pool.write { db in
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO results VALUES (?, 'bench', 'check', NULL, 'sao_paulo', 'p', 'c', ?, 1, NULL, 12.5, ?)")
        for (i, line) in lines[chunk..<min(chunk + 500, lines.count)].enumerated() {
            try insert.execute(arguments: ["\(chunk + i)-\(line.hashValue)", Int64(chunk + i), line])
        }
    }
}
let elapsed = (ContinuousClock.now - start).components
let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
print(String(format: "%.0f", Double(lines.count) / seconds))

import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import SondaCore

/// Rollups on PostgreSQL are appended, one latency and one outcome row per batch and key, so that
/// no two writers contend for a row; merging them is this compaction's job. For each bucket that
/// is over (before the current minute, hour or day), it deletes a key's rows and inserts their
/// merged histogram or summed count in one transaction, so the counts stay exact whatever runs
/// beside it (a concurrent compaction deletes only rows it can still see, and merges only those).
/// Without it, the tables would grow by a row per batch for as long as rollups are kept.
extension PostgresStore {
    /// Moves the minute rows ingest appended since the last move (`RollupTables`) into the minute
    /// tables and adds them up into the hour and day tables, at most `limit` rows of each pending
    /// table per transaction; returns the pending rows moved. Each transaction deletes the rows it
    /// moves, so a row is moved once whatever runs beside it (a concurrent move waits for the
    /// rows' deletion and then skips them), and every span counts it from the same commit.
    @discardableResult
    public func rollUpPending(limit: Int = 20_000) async throws -> Int {
        var moved = 0
        while true {
            let (here, undecodable) = try await withConnection { [logger] connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await Self.movePending(limit: limit, on: connection, logger: logger)
                }
            }
            moved += here
            recordUndecodable(undecodable, "pending histogram", "rolled up")
            if here < limit { return moved }
        }
    }

    /// "3 stored histograms of latency_minute no longer decode; merged without them", as a fault.
    private func recordUndecodable(_ count: Int, _ what: String, of table: String? = nil, _ done: String) {
        guard count > 0 else { return }
        let one = count == 1
        faults.record(
            .undecodableRollup,
            "\(count) \(what)\(one ? "" : "s")\(table.map { " of \($0)" } ?? "") no longer decode\(one ? "s" : ""); "
                + "\(done) without \(one ? "it" : "them")",
            occurrences: count)
    }

    private static func movePending(limit: Int, on connection: PostgresConnection, logger: Logger) async throws
        -> (moved: Int, undecodable: Int)
    {
        var rollup = MinuteRollup()
        var (moved, undecodable) = (0, 0)
        let latency = try await connection.rows(
            PostgresQuery(
                unsafeSQL: """
                    DELETE FROM \(RollupTables.latencyPending)
                    WHERE ctid = ANY (ARRAY(SELECT ctid FROM \(RollupTables.latencyPending) LIMIT \(limit)))
                    RETURNING minute, region, profile, check_name, class, \(PhaseHistograms.columns)
                    """), logger: logger)
        for row in latency {
            let cells = row.makeRandomAccess()
            let minute = try cells[0].decode(Int64.self)
            let key = RollupKey(
                region: try cells[1].decode(String.self), profile: try cells[2].decode(String.self),
                check: try cells[3].decode(String.self), endpointClass: try cells[4].decode(String.self))
            var phases = MinuteRollup.Series.emptyPhases
            for phase in PhaseHistograms.phases.indices {
                let bytes = try cells[5 + phase].decode(ByteBuffer.self)
                guard let histogram = LatencyHistogram(serialized: bytes.readableBytesView) else {
                    undecodable += 1
                    continue
                }
                phases[phase] = histogram
            }
            rollup.series[key, default: .init()].latency[minute, default: MinuteRollup.Series.emptyPhases].merge(phases)
            moved += 1
        }
        let outcomes = try await connection.rows(
            PostgresQuery(
                unsafeSQL: """
                    DELETE FROM \(RollupTables.outcomePending)
                    WHERE ctid = ANY (ARRAY(SELECT ctid FROM \(RollupTables.outcomePending) LIMIT \(limit)))
                    RETURNING minute, region, profile, check_name, class, error_code, count
                    """), logger: logger)
        for (minute, region, profile, check, endpointClass, code, count) in try outcomes.decode(
            (Int64, String, String, String, String, String, Int).self)
        {
            let key = RollupKey(region: region, profile: profile, check: check, endpointClass: endpointClass)
            rollup.series[key, default: .init()].outcomes[minute, default: [:]][code, default: 0] += count
            moved += 1
        }
        if !rollup.isEmpty { try await save(rollup.rows(phasesTogether: true), on: connection, logger: logger) }
        return (moved, undecodable)
    }

    /// Merges the rows of finished buckets, at most `limit` keys per table; returns the rows removed.
    @discardableResult
    public func compactRollups(now: Date, limit: Int = 20_000) async throws -> Int {
        var removed = 0
        for span in MinuteRollup.Span.allCases {
            let seconds: Int64 = span == .minute ? 60 : span == .hour ? 3600 : 86_400
            let current = Int64(now.timeIntervalSince1970).floorDivided(by: seconds)
            let key = [span.column, "region", "profile", "check_name", "class", "error_code"].joined(separator: ", ")
            let join = [span.column, "region", "profile", "check_name", "class", "error_code"]
                .map { "o.\($0) = g.\($0)" }.joined(separator: " AND ")
            // Counts add up in SQL: the deleted rows come back as one row per key, in one statement.
            removed += try await withConnection { [logger] connection in
                let rows = try await connection.rows(
                    PostgresQuery(
                        unsafeSQL: """
                            WITH g AS (
                                SELECT \(key) FROM \(span.outcomeTable) WHERE \(span.column) < \(current)
                                GROUP BY \(key) HAVING count(*) > 1 LIMIT \(limit)),
                            d AS (DELETE FROM \(span.outcomeTable) o USING g WHERE \(join) RETURNING o.*),
                            i AS (INSERT INTO \(span.outcomeTable) (\(key), count)
                                  SELECT \(key), SUM(count) FROM d GROUP BY \(key) RETURNING 1)
                            SELECT (SELECT count(*) FROM d) - (SELECT count(*) FROM i)
                            """), logger: logger)
                var merged = 0
                for count in try rows.decode(Int.self) { merged = count }
                return merged
            }
        }
        for span in MinuteRollup.Span.allCases {
            let seconds: Int64 = span == .minute ? 60 : span == .hour ? 3600 : 86_400
            let current = Int64(now.timeIntervalSince1970).floorDivided(by: seconds)
            let key = [span.column, "region", "profile"] + (span == .minute ? ["check_name"] : []) + ["class"]
            let columns = key.joined(separator: ", ")
            let join = key.map { "l.\($0) = g.\($0)" }.joined(separator: " AND ")
            let phaseCount = PhaseHistograms.phases.count
            let (removedHere, undecodable) = try await withConnection { [logger] connection in
                try await connection.withTransaction(logger: logger) { connection in
                    var merged: [[String]: (bucket: Int64, count: Int64, phases: [LatencyHistogram])] = [:]
                    var deleted = 0
                    var undecodable = 0
                    let rows = try await connection.rows(
                        PostgresQuery(
                            unsafeSQL: """
                                WITH g AS (
                                    SELECT \(columns) FROM \(span.latencyTable) WHERE \(span.column) < \(current)
                                    GROUP BY \(columns) HAVING count(*) > 1 LIMIT \(limit))
                                DELETE FROM \(span.latencyTable) l USING g WHERE \(join)
                                RETURNING \(key.map { "l.\($0)" }.joined(separator: ", ")), l.count, \(
                                    PhaseHistograms.phases.map { "l.\($0.rawValue)" }.joined(separator: ", "))
                                """), logger: logger)
                    for row in rows {
                        let cells = row.makeRandomAccess()
                        let bucket = try cells[0].decode(Int64.self)
                        let labels = [String(bucket)] + (try (1..<key.count).map { try cells[$0].decode(String.self) })
                        var entry = merged[labels] ?? (bucket, 0, MinuteRollup.Series.emptyPhases)
                        entry.count += try cells[key.count].decode(Int64.self)
                        for phase in 0..<phaseCount {
                            let bytes = try cells[key.count + 1 + phase].decode(ByteBuffer.self)
                            guard let histogram = LatencyHistogram(serialized: bytes.readableBytesView) else {
                                undecodable += 1
                                continue
                            }
                            entry.phases[phase].merge(histogram)
                        }
                        merged[labels] = entry
                        deleted += 1
                    }
                    guard !merged.isEmpty else { return (deleted, undecodable) }
                    let entries = Array(merged.values)
                    let labels = Array(merged.keys)
                    var binds = PostgresBindings()
                    binds.append(entries.map(\.bucket))
                    for i in 1..<key.count { binds.append(labels.map { $0[i] }) }
                    binds.append(entries.map(\.count))
                    for phase in 0..<phaseCount {
                        binds.append(HistogramColumn(entries.map { $0.phases[phase] }))
                    }
                    let arrays = (1...binds.count).map { i -> String in
                        let type = i == 1 || i == key.count + 1 ? "bigint[]" : i > key.count + 1 ? "bytea[]" : "text[]"
                        return "$\(i)::\(type)"
                    }
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                INSERT INTO \(span.latencyTable) (\(columns), count, \(PhaseHistograms.columns))
                                SELECT * FROM UNNEST(\(arrays.joined(separator: ", ")))
                                """, binds: binds), logger: logger)
                    return (deleted - merged.count, undecodable)
                }
            }
            removed += removedHere
            recordUndecodable(undecodable, "stored histogram", of: span.latencyTable, "merged")
        }
        return removed
    }
}

/// The lease holder's upkeep of a shared database: every second it links queued batch entries
/// onto the audit chain, every 5 seconds it rolls up the pending rollup rows, every minute it
/// compacts the rollups. It links once more on shutdown, so a replica stopped in an orderly way
/// leaves nothing queued that it could have linked. A round that fails is a fault (`audit_chain`,
/// `rollup_compaction`) in the store's `FaultLog` until one succeeds.
struct LeaderUpkeep: Service {
    let store: PostgresStore
    var chainEvery: Duration = .seconds(1)
    /// Short, so the pending rows that every reader of an hour or a day also reads stay few.
    var rollUpEvery: Duration = .seconds(5)
    var compactEvery: Duration = .seconds(60)

    func run() async throws {
        var lastRollUp = ContinuousClock.now - rollUpEvery
        var lastCompaction = ContinuousClock.now - compactEvery
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await chainOnce()
            if ContinuousClock.now - lastCompaction >= compactEvery {
                (lastCompaction, lastRollUp) = (.now, .now)
                await compactOnce(now: Date())
            } else if ContinuousClock.now - lastRollUp >= rollUpEvery {
                lastRollUp = .now
                await rollUpOnce()
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: chainEvery) }
        }
        _ = try? await store.chainAudit()  // safe on any replica: linking takes the chain's lock
    }

    func chainOnce() async {
        await store.faults.attempt(.auditChain, describe: StoreOpening.describe) {
            guard try await store.acquireLease(holder: Lease.replica, ttl: AlertService.leaseTTL) != nil else { return }
            try await store.chainAudit()
        }
    }

    func rollUpOnce() async {
        await store.faults.attempt(.rollupCompaction, describe: StoreOpening.describe) {
            guard try await store.acquireLease(holder: Lease.replica, ttl: AlertService.leaseTTL) != nil else { return }
            try await store.rollUpPending()
        }
    }

    /// Rolls up first, so the rows just moved are merged in the same round.
    func compactOnce(now: Date) async {
        await store.faults.attempt(.rollupCompaction, describe: StoreOpening.describe) {
            guard try await store.acquireLease(holder: Lease.replica, ttl: AlertService.leaseTTL) != nil else { return }
            try await store.rollUpPending()
            try await store.compactRollups(now: now)
        }
    }
}

import Foundation
import Logging
import PostgresNIO

/// The audit chain on PostgreSQL: one chain for every replica, with batches' entries queued and
/// linked by the lease holder (see `chainAudit`).
extension PostgresStore {
    /// The chain is one sequence across replicas: its tail is appended under a transaction-scoped
    /// advisory lock, taken last in the writing transaction so the lock is held only to commit.
    /// Alert and silence changes append directly; batches queue their entries (`chainAudit`).
    static let auditLock: Int64 = 0x534F_4E44_4102

    static func appendAudit(
        kind: String, detail: String, at date: Date, on connection: PostgresConnection, logger: Logger
    )
        async throws
    {
        _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(auditLock))", logger: logger)
        let previous = try await auditHead(on: connection, logger: logger)
        let at = Int64(date.timeIntervalSince1970 * 1000)
        let hash = AuditLog.hash(previous: previous, atMilliseconds: at, kind: kind, detail: detail)
        try await connection.query(
            "INSERT INTO audit (at_ms, kind, detail, prev_hash, hash) VALUES (\(at), \(kind), \(detail), \(previous), \(hash))",
            logger: logger)
    }

    public func appendAudit(kind: String, detail: String, at date: Date) async throws {
        try await withConnection { [logger] connection in
            let logger = logger
            try await connection.withTransaction(logger: logger) { connection in
                try await Self.appendAudit(kind: kind, detail: detail, at: date, on: connection, logger: logger)
            }
        }
    }

    /// Links the queued batch entries onto the chain, in the order their transactions ended:
    /// only entries of transactions older than every transaction still running (below the
    /// snapshot's xmin), so an entry that commits later can never belong before one already
    /// linked. Returns how many it linked. The lease holder runs it every second (`LeaderUpkeep`).
    @discardableResult
    public func chainAudit(limit: Int = 10_000) async throws -> Int {
        try await withConnection { [logger] connection in
            try await connection.withTransaction(logger: logger) { connection in
                _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(Self.auditLock))", logger: logger)
                let rows = try await connection.rows(
                    """
                    DELETE FROM audit_queue WHERE seq IN (
                        SELECT seq FROM audit_queue WHERE ingest_xid < pg_snapshot_xmin(pg_current_snapshot())
                        ORDER BY ingest_xid, seq LIMIT \(limit))
                    RETURNING ingest_xid::text::bigint, seq, at_ms, kind, detail
                    """, logger: logger)
                var queued: [(xid: Int64, seq: Int64, at: Int64, kind: String, detail: String)] = []
                for row in try rows.decode((Int64, Int64, Int64, String, String).self) { queued.append(row) }
                guard !queued.isEmpty else { return 0 }
                queued.sort { ($0.xid, $0.seq) < ($1.xid, $1.seq) }
                var previous = try await Self.auditHead(on: connection, logger: logger)
                var at: [Int64] = []
                var kinds: [String] = []
                var details: [String] = []
                var prevs: [String] = []
                var hashes: [String] = []
                for entry in queued {
                    let hash = AuditLog.hash(
                        previous: previous, atMilliseconds: entry.at, kind: entry.kind, detail: entry.detail)
                    at.append(entry.at)
                    kinds.append(entry.kind)
                    details.append(entry.detail)
                    prevs.append(previous)
                    hashes.append(hash)
                    previous = hash
                }
                try await connection.query(
                    """
                    INSERT INTO audit (at_ms, kind, detail, prev_hash, hash)
                    SELECT at_ms, kind, detail, prev_hash, hash
                    FROM UNNEST(\(at)::bigint[], \(kinds)::text[], \(details)::text[], \(prevs)::text[], \(hashes)::text[])
                         WITH ORDINALITY AS e(at_ms, kind, detail, prev_hash, hash, n)
                    ORDER BY n
                    """, logger: logger)
                return queued.count
            }
        }
    }

    static func auditHead(on connection: PostgresConnection, logger: Logger) async throws -> String {
        for hash in try await connection.rows(
            "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", logger: logger
        ).decode(String.self) {
            return hash
        }
        return AuditLog.genesis
    }

    /// Entries `verifyAudit` reads at a time: `rows` holds a whole answer in memory, and a chain has
    /// an entry per batch. Each page on a connection of its own, so no use outlasts `useDeadline`.
    static let auditPage = 10_000

    public func verifyAudit(noting: Set<Int>) async throws -> AuditLog.Verification {
        try await verifyAudit(noting: noting, pageSize: Self.auditPage)
    }

    func verifyAudit(noting: Set<Int>, pageSize: Int) async throws -> AuditLog.Verification {
        let queued = try await withConnection { [logger] connection in
            try await connection.rows("SELECT count(*) FROM audit_queue", logger: logger).decode(Int.self).first ?? 0
        }
        var walk = AuditLog.Walk(noting: noting)
        var after = Int64.min
        while true {
            let page = try await withConnection { [logger, after] connection in
                try await connection.rows(
                    """
                    SELECT seq, at_ms, kind, detail, prev_hash, hash FROM audit WHERE seq > \(after)
                    ORDER BY seq LIMIT \(pageSize)
                    """, logger: logger
                ).decode((Int64, Int64, String, String, String, String).self)
            }
            for (seq, at, kind, detail, prev, hash) in page {
                guard walk.step(seq: seq, atMilliseconds: at, kind: kind, detail: detail, prev: prev, hash: hash)
                else { return walk.result(queued: queued) }
                after = seq
            }
            if page.count < pageSize { return walk.result(queued: queued) }
        }
    }

    public func auditHead() async throws -> AuditLog.Head {
        try await chainAudit()
        return try await withConnection { [logger] connection in
            let rows = try await connection.rows(
                "SELECT count(*), (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) FROM audit", logger: logger)
            for (entries, hash) in try rows.decode((Int, String?).self) {
                return AuditLog.Head(entries: entries, hash: hash)
            }
            return AuditLog.Head(entries: 0, hash: nil)
        }
    }
}

import Foundation
import Logging
import PostgresNIO

/// The fleet's lease on PostgreSQL: one row that a replica takes when it is free or expired, and
/// renews while it lives. Its epoch grows each time it changes hands. A replica that is killed
/// stops renewing, and another takes over once `ttl` has passed; one that is only slow finds its
/// writes fenced off (`fence`) once another has taken over.
extension PostgresStore {
    static let leaseName = "leader"

    public func acquireLease(holder: String, ttl: Duration) async throws -> Lease? {
        let milliseconds = Int64(ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000)
        return try await withConnection { [logger] connection in
            let rows = try await connection.rows(
                """
                INSERT INTO leases AS l (name, holder, epoch, expires_at)
                VALUES (\(Self.leaseName), \(holder), 1, clock_timestamp() + \(milliseconds) * interval '1 millisecond')
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
                    epoch = CASE WHEN l.holder = excluded.holder THEN l.epoch ELSE l.epoch + 1 END
                WHERE l.holder = excluded.holder OR l.expires_at < clock_timestamp()
                RETURNING epoch
                """, logger: logger)
            for epoch in try rows.decode(Int64.self) { return Lease(holder: holder, epoch: epoch) }
            return nil
        }
    }

    /// Refuses the transaction unless `lease` is still current and unexpired, and holds the lease
    /// row until commit, so no replica can take the lease over between this check and the commit.
    static func fence(_ lease: Lease, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.rows(
            """
            SELECT epoch FROM leases
            WHERE name = \(leaseName) AND holder = \(lease.holder) AND epoch = \(lease.epoch)
            AND expires_at > clock_timestamp()
            FOR SHARE
            """, logger: logger)
        for _ in try rows.decode(Int64.self) { return }
        throw LeaseLost(lease: lease)
    }
}

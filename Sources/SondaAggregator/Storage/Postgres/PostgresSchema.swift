import Logging
import PostgresNIO

/// The PostgreSQL schema as ordered, named migrations, the same history as SQLite's in one step
/// (the first PostgreSQL release). Never edit a shipped migration: add the next one. Replicas that
/// start together take turns on an advisory lock, so each migration runs once.
enum PostgresSchema {
    static let migrationLock: Int64 = 0x534F_4E44_4101  // "SOND" A 1

    static let migrations: [(name: String, sql: [String])] = [
        (
            "v1: results by day, rollups, agents, audit, alerts",
            [
                """
                CREATE SEQUENCE results_seq
                """,
                // Partitioned by the day the probe started; the agent signs started_at, so a re-sent
                // result lands on the same partition and the same key. `ingest_xid` (the writing
                // transaction) and `seq` give the alert evaluator a cursor that never skips a row a
                // slower transaction commits later (see PostgresStore.resultEvents).
                """
                CREATE TABLE results (
                    id text NOT NULL,
                    started_at_ms bigint NOT NULL,
                    agent text NOT NULL,
                    check_name text NOT NULL,
                    step text,
                    region text NOT NULL,
                    profile text NOT NULL,
                    class text NOT NULL,
                    ok boolean NOT NULL,
                    error_code text,
                    total_ms double precision NOT NULL,
                    json text NOT NULL,
                    ingest_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                    seq bigint NOT NULL DEFAULT nextval('results_seq'),
                    PRIMARY KEY (id, started_at_ms)
                ) PARTITION BY RANGE (started_at_ms)
                """,
                "CREATE INDEX results_by_check ON results (check_name, started_at_ms)",
                "CREATE INDEX results_by_ingest ON results (ingest_xid, seq)",
                // Latency rollups are appended, one row per batch and key: no two batches ever
                // contend for a row, and a reader merges the rows it reads as it would merge minutes.
                """
                CREATE TABLE latency_minute (
                    minute bigint NOT NULL, region text NOT NULL, profile text NOT NULL, check_name text NOT NULL,
                    class text NOT NULL, phase text NOT NULL, count bigint NOT NULL, histogram bytea NOT NULL
                )
                """,
                "CREATE INDEX latency_minute_by_minute ON latency_minute (minute)",
                "CREATE INDEX latency_minute_by_check ON latency_minute (check_name, minute)",
                """
                CREATE TABLE latency_hour (
                    hour bigint NOT NULL, region text NOT NULL, profile text NOT NULL,
                    class text NOT NULL, phase text NOT NULL, count bigint NOT NULL, histogram bytea NOT NULL
                )
                """,
                "CREATE INDEX latency_hour_by_hour ON latency_hour (hour)",
                """
                CREATE TABLE latency_day (
                    day bigint NOT NULL, region text NOT NULL, profile text NOT NULL,
                    class text NOT NULL, phase text NOT NULL, count bigint NOT NULL, histogram bytea NOT NULL
                )
                """,
                "CREATE INDEX latency_day_by_day ON latency_day (day)",
                // Outcomes are counters: an upsert adds to the row under its lock.
                """
                CREATE TABLE outcome_minute (
                    minute bigint NOT NULL, region text NOT NULL, profile text NOT NULL, check_name text NOT NULL,
                    class text NOT NULL, error_code text NOT NULL, count bigint NOT NULL,
                    PRIMARY KEY (minute, region, profile, check_name, class, error_code)
                )
                """,
                "CREATE INDEX outcome_minute_by_check ON outcome_minute (check_name, minute)",
                """
                CREATE TABLE outcome_hour (
                    hour bigint NOT NULL, region text NOT NULL, profile text NOT NULL, check_name text NOT NULL,
                    class text NOT NULL, error_code text NOT NULL, count bigint NOT NULL,
                    PRIMARY KEY (hour, region, profile, check_name, class, error_code)
                )
                """,
                """
                CREATE TABLE outcome_day (
                    day bigint NOT NULL, region text NOT NULL, profile text NOT NULL, check_name text NOT NULL,
                    class text NOT NULL, error_code text NOT NULL, count bigint NOT NULL,
                    PRIMARY KEY (day, region, profile, check_name, class, error_code)
                )
                """,
                "CREATE INDEX outcome_day_by_check ON outcome_day (check_name, day)",
                """
                CREATE TABLE agents (
                    id text PRIMARY KEY,
                    region text NOT NULL,
                    last_seen_ms bigint NOT NULL,
                    version text NOT NULL,
                    config_hash text NOT NULL,
                    spool_depth bigint NOT NULL,
                    dropped_total bigint NOT NULL,
                    batches bigint NOT NULL,
                    results bigint NOT NULL
                )
                """,
                """
                CREATE TABLE audit (
                    seq bigserial PRIMARY KEY,
                    at_ms bigint NOT NULL,
                    kind text NOT NULL,
                    detail text NOT NULL,
                    prev_hash text NOT NULL,
                    hash text NOT NULL
                )
                """,
                """
                CREATE TABLE alerts (
                    fingerprint text NOT NULL,
                    active_since_ms bigint NOT NULL,
                    labels text NOT NULL,
                    severity text NOT NULL,
                    state text NOT NULL,
                    silenced boolean NOT NULL,
                    summary text NOT NULL,
                    description text NOT NULL,
                    starts_at_ms bigint,
                    ends_at_ms bigint,
                    last_sent_ms bigint,
                    false_since_ms bigint,
                    PRIMARY KEY (fingerprint, active_since_ms)
                )
                """,
                "CREATE INDEX alerts_by_state ON alerts (state, ends_at_ms)",
                """
                CREATE TABLE silences (
                    id text PRIMARY KEY,
                    matchers text NOT NULL,
                    starts_at_ms bigint NOT NULL,
                    ends_at_ms bigint NOT NULL,
                    comment text NOT NULL,
                    created_at_ms bigint NOT NULL
                )
                """,
                "CREATE TABLE alert_cursor (name text PRIMARY KEY, value bigint NOT NULL)",
            ]
        ),
        (
            "v2: the fleet's lease",
            [
                // One row per lease: the replica that evaluates alerts and prunes, until expires_at.
                """
                CREATE TABLE leases (
                    name text PRIMARY KEY, holder text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL)
                """
            ]
        ),
        (
            "v3: notifications queued for delivery",
            [
                // One row per notification: pending until delivered, failed (refused) or expired.
                """
                CREATE TABLE notifications (
                    id bigserial PRIMARY KEY,
                    key text NOT NULL UNIQUE,
                    receiver text NOT NULL,
                    body bytea NOT NULL,
                    alerts bigint NOT NULL,
                    created_at_ms bigint NOT NULL,
                    state text NOT NULL DEFAULT 'pending',
                    due_at_ms bigint NOT NULL,
                    claimed_until_ms bigint NOT NULL DEFAULT 0,
                    attempts bigint NOT NULL DEFAULT 0,
                    last_error text,
                    finished_at_ms bigint
                )
                """,
                "CREATE INDEX notifications_pending ON notifications (receiver, state, id)",
            ]
        ),
        (
            "v4: outcome counts appended, not added to",
            // Adding to a counter row locks it until commit, and every concurrent batch with a
            // result in the same minute, check and profile waited for that commit (most of ingest's
            // time with 8 senders). Outcome rows are now appended like latency rows; readers sum
            // them, and the lease holder's compaction merges the rows of finished buckets.
            MinuteRollup.Span.allCases.flatMap { span in
                [
                    "ALTER TABLE \(span.outcomeTable) DROP CONSTRAINT \(span.outcomeTable)_pkey",
                    """
                    CREATE INDEX \(span.outcomeTable)_by_key
                    ON \(span.outcomeTable) (\(span.column), region, profile, check_name, class, error_code)
                    """,
                ]
            }
        ),
        (
            "v5: batch audit entries queued for the chain",
            [
                // A batch's audit entry used to extend the chain in the batch's own transaction,
                // under one lock held to commit: every batch of every replica waited for the
                // commit before it. Batches now queue their entry (in their transaction, so an
                // acknowledged batch always has one), and the lease holder links queued entries
                // onto the chain in the order their transactions ended (`chainAudit`).
                """
                CREATE TABLE audit_queue (
                    seq bigserial PRIMARY KEY,
                    at_ms bigint NOT NULL,
                    kind text NOT NULL,
                    detail text NOT NULL,
                    ingest_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
                )
                """
            ]
        ),
        (
            "v6: batch ids remembered against replays",
            [
                // One row per accepted batch, kept until its signature can no longer be replayed;
                // written in the batch's transaction, so every replica sees it.
                """
                CREATE TABLE batch_ids (
                    agent text NOT NULL, batch_id text NOT NULL, until_ms bigint NOT NULL,
                    PRIMARY KEY (agent, batch_id))
                """,
                "CREATE INDEX batch_ids_by_until ON batch_ids (until_ms)",
            ]
        ),
        (
            "v7: every phase's latency histogram of a key in one row",
            // A batch of 500 results appended about 900 latency rows, one per bucket, key and
            // phase: after the results themselves, most of what ingest cost the server. A row now
            // has a histogram column per phase (`PhaseHistograms`), and `count` the successful
            // results it covers. Existing rows become rows of one phase each, which the compaction
            // merges like any appended rows. Rows of about 4 KB stay whole in the table rather
            // than compressed (`toast_tuple_target`), so reading one phase decompresses nothing.
            MinuteRollup.Span.allCases.flatMap { span in
                let check = span == .minute ? "check_name text NOT NULL, " : ""
                let key = [span.column, "region", "profile"] + (span == .minute ? ["check_name"] : []) + ["class"]
                let columns = key.joined(separator: ", ")
                let histograms = PhaseHistograms.phases.map { "\($0.rawValue) bytea NOT NULL" }.joined(separator: ", ")
                return [
                    "ALTER TABLE \(span.latencyTable) RENAME TO \(span.latencyTable)_by_phase",
                    """
                    CREATE TABLE \(span.latencyTable) (
                        \(span.column) bigint NOT NULL, region text NOT NULL, profile text NOT NULL, \(check)
                        class text NOT NULL, count bigint NOT NULL, \(histograms)) WITH (toast_tuple_target = 8160)
                    """,
                    """
                    INSERT INTO \(span.latencyTable) (\(columns), count, \(PhaseHistograms.columns))
                    SELECT \(columns), CASE WHEN phase = 'total' THEN count ELSE 0 END,
                           \(PhaseHistograms.columns(fromPhase: "phase", histogram: "histogram").joined(separator: ", "))
                    FROM \(span.latencyTable)_by_phase
                    """,
                    "DROP TABLE \(span.latencyTable)_by_phase",
                    "CREATE INDEX \(span.latencyTable)_by_\(span.column) ON \(span.latencyTable) (\(span.column))",
                ]
                    + (span == .minute
                        ? ["CREATE INDEX latency_minute_by_check ON latency_minute (check_name, minute)"] : [])
            }
        ),
        (
            "v8: agents' quarantined results",
            // Replicas before it write agents rows without the column and keep working.
            ["ALTER TABLE agents ADD COLUMN quarantined_total bigint NOT NULL DEFAULT 0"]
        ),
        (
            "v9: hours and days added up by the lease holder",
            // Ingest appended a minute, an hour and a day row per batch and key; it now appends
            // minute rows here only, and the lease holder moves them on (`RollupTables`). No
            // index: the tables hold the seconds since the last move. Replicas before it keep
            // writing all three spans themselves, and see pending rows only once moved.
            [
                "CREATE TABLE latency_pending (LIKE latency_minute) WITH (toast_tuple_target = 8160)",
                "CREATE TABLE outcome_pending (LIKE outcome_minute)",
            ]
        ),
        (
            "v10: results' TLS report in a column of its own",
            // The alert evaluator and the status page read a result's TLS report; from `json` that
            // meant parsing the whole result as jsonb on the server, about 8 µs a row, most of what
            // reading new results cost. `tls_json` holds the `tls` object's text as sent, '' for
            // none, NULL where nobody extracted it (rows from before, imports, replicas before it),
            // where readers still parse `json`. Nullable without a default: no table rewrite.
            ["ALTER TABLE results ADD COLUMN tls_json text"]
        ),
        (
            "v11: a batch written in one statement",
            // `PostgresStore.writeAtOnce` ends with this: a new batch that stored fewer results than
            // it sent fails whole, and is written again by the transaction that counts what it stores.
            [
                """
                CREATE FUNCTION sonda_all_stored(fresh boolean, stored bigint, sent bigint) RETURNS bigint
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF fresh AND stored < sent THEN
                        RAISE EXCEPTION 'some of the batch''s results were stored already' USING ERRCODE = 'SN001';
                    END IF;
                    RETURN stored;
                END $$
                """
            ]
        ),
    ]

    /// Applies the migrations not yet applied, in one transaction under the lock.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied: Set<String> = []
            for name in try await connection.rows("SELECT name FROM schema_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
                logger.notice("database: applied migration '\(migration.name)'")
            }
        }
    }
}

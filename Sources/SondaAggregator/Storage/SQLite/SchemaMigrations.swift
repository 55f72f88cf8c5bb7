import GRDB

/// The schema as ordered, named migrations. Never edit a shipped migration: add the next one.
enum SchemaMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: results, rollups, agents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE results (
                        id TEXT PRIMARY KEY NOT NULL,
                        agent TEXT NOT NULL,
                        check_name TEXT NOT NULL,
                        step TEXT,
                        region TEXT NOT NULL,
                        profile TEXT NOT NULL,
                        class TEXT NOT NULL,
                        started_at_ms INTEGER NOT NULL,
                        ok INTEGER NOT NULL,
                        error_code TEXT,
                        total_ms REAL NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE INDEX results_by_check ON results(check_name, started_at_ms);
                    CREATE INDEX results_by_time ON results(started_at_ms);

                    -- one row per minute × (region, profile, check, class, phase): successful results only
                    CREATE TABLE latency_minute (
                        minute INTEGER NOT NULL,
                        region TEXT NOT NULL, profile TEXT NOT NULL, check_name TEXT NOT NULL,
                        class TEXT NOT NULL, phase TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        histogram BLOB NOT NULL,
                        PRIMARY KEY (minute, region, profile, check_name, class, phase)
                    ) WITHOUT ROWID;

                    -- outcomes per minute; error_code '' counts successes
                    CREATE TABLE outcome_minute (
                        minute INTEGER NOT NULL,
                        region TEXT NOT NULL, profile TEXT NOT NULL, check_name TEXT NOT NULL,
                        class TEXT NOT NULL, error_code TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (minute, region, profile, check_name, class, error_code)
                    ) WITHOUT ROWID;

                    CREATE TABLE agents (
                        id TEXT PRIMARY KEY NOT NULL,
                        region TEXT NOT NULL,
                        last_seen_ms INTEGER NOT NULL,
                        version TEXT NOT NULL,
                        config_hash TEXT NOT NULL,
                        spool_depth INTEGER NOT NULL,
                        dropped_total INTEGER NOT NULL,
                        batches INTEGER NOT NULL,
                        results INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2: audit chain") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        at_ms INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        prev_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v3: hourly rollups") { db in
            try db.execute(
                sql: """
                    -- budget cells over long windows: no check dimension, one row per hour
                    CREATE TABLE latency_hour (
                        hour INTEGER NOT NULL,
                        region TEXT NOT NULL, profile TEXT NOT NULL, class TEXT NOT NULL, phase TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        histogram BLOB NOT NULL,
                        PRIMARY KEY (hour, region, profile, class, phase)
                    ) WITHOUT ROWID;
                    CREATE TABLE outcome_hour (
                        hour INTEGER NOT NULL,
                        region TEXT NOT NULL, profile TEXT NOT NULL, check_name TEXT NOT NULL,
                        class TEXT NOT NULL, error_code TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (hour, region, profile, check_name, class, error_code)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4: daily rollups") { db in
            try db.execute(
                sql: """
                    CREATE TABLE latency_day (
                        day INTEGER NOT NULL,
                        region TEXT NOT NULL, profile TEXT NOT NULL, class TEXT NOT NULL, phase TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        histogram BLOB NOT NULL,
                        PRIMARY KEY (day, region, profile, class, phase)
                    ) WITHOUT ROWID;
                    CREATE TABLE outcome_day (
                        day INTEGER NOT NULL,
                        region TEXT NOT NULL, profile TEXT NOT NULL, check_name TEXT NOT NULL,
                        class TEXT NOT NULL, error_code TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (day, region, profile, check_name, class, error_code)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v5: alerts, silences, evaluator cursor") { db in
            try db.execute(
                sql: """
                    -- one row per alert episode: pending, firing, then resolved (kept as history)
                    CREATE TABLE alerts (
                        fingerprint TEXT NOT NULL,
                        active_since_ms INTEGER NOT NULL,
                        labels TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        state TEXT NOT NULL,
                        silenced INTEGER NOT NULL,
                        summary TEXT NOT NULL,
                        description TEXT NOT NULL,
                        starts_at_ms INTEGER,
                        ends_at_ms INTEGER,
                        last_sent_ms INTEGER,
                        false_since_ms INTEGER,
                        PRIMARY KEY (fingerprint, active_since_ms)
                    );
                    CREATE INDEX alerts_by_state ON alerts(state, ends_at_ms);
                    CREATE TABLE silences (
                        id TEXT PRIMARY KEY NOT NULL,
                        matchers TEXT NOT NULL,
                        starts_at_ms INTEGER NOT NULL,
                        ends_at_ms INTEGER NOT NULL,
                        comment TEXT NOT NULL,
                        created_at_ms INTEGER NOT NULL
                    );
                    -- how far the evaluator has read: the results rowid (ingest order, not started_at)
                    CREATE TABLE alert_cursor (
                        name TEXT PRIMARY KEY NOT NULL,
                        value INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v6: rollup cursor") { db in
            // Rollups used to be merged in each batch's transaction: every existing row is covered.
            try db.execute(
                sql: """
                    CREATE TABLE rollup_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), row_id INTEGER NOT NULL);
                    INSERT INTO rollup_cursor VALUES (1, (SELECT IFNULL(MAX(rowid), 0) FROM results));
                    """)
        }
        migrator.registerMigration("v7: notifications queued for delivery") { db in
            try db.execute(
                sql: """
                    -- one row per notification: pending until delivered, failed (refused) or expired
                    CREATE TABLE notifications (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL UNIQUE,
                        receiver TEXT NOT NULL,
                        body BLOB NOT NULL,
                        alerts INTEGER NOT NULL,
                        created_at_ms INTEGER NOT NULL,
                        state TEXT NOT NULL DEFAULT 'pending',
                        due_at_ms INTEGER NOT NULL,
                        claimed_until_ms INTEGER NOT NULL DEFAULT 0,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_error TEXT,
                        finished_at_ms INTEGER
                    );
                    CREATE INDEX notifications_pending ON notifications(receiver, state, id);
                    """)
        }
        migrator.registerMigration("v8: batch ids remembered against replays") { db in
            try db.execute(
                sql: """
                    -- one row per accepted batch, kept until its signature can no longer be replayed
                    CREATE TABLE batch_ids (
                        agent TEXT NOT NULL,
                        batch_id TEXT NOT NULL,
                        until_ms INTEGER NOT NULL,
                        PRIMARY KEY (agent, batch_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX batch_ids_by_until ON batch_ids(until_ms);
                    """)
        }
        migrator.registerMigration("v9: agents' quarantined results") { db in
            // Aggregators before it write agents rows without the column and keep working.
            try db.execute(sql: "ALTER TABLE agents ADD COLUMN quarantined_total INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }
}

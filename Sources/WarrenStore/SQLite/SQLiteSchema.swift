import GRDB

/// The SQLite schema, as versioned migrations (GRDB's `DatabaseMigrator` records which ran).
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE warren_result_attempts (seq INTEGER PRIMARY KEY AUTOINCREMENT, \(fields), UNIQUE (id, attempt));
                CREATE INDEX warren_result_attempts_at ON warren_result_attempts (at_ms);
                CREATE TABLE warren_results (\(fields), PRIMARY KEY (id)) WITHOUT ROWID;
                CREATE INDEX warren_results_at ON warren_results (at_ms);
                CREATE INDEX warren_results_task_at ON warren_results (task, at_ms);
                CREATE INDEX warren_results_schedule_at ON warren_results (schedule, at_ms);
                CREATE INDEX warren_results_status_at ON warren_results (status, at_ms);
                """)
        }
        migrator.registerMigration("v2 traceparent") { db in
            try db.execute(sql: """
                ALTER TABLE warren_result_attempts ADD COLUMN traceparent TEXT;
                ALTER TABLE warren_results ADD COLUMN traceparent TEXT;
                """)
        }
        // One row per run: SQLite cannot change a table's UNIQUE constraint, so the attempts
        // table is rebuilt, keeping each row's `seq` and the table's sequence counter
        // (`warren results tail` follows `seq`).
        migrator.registerMigration("v3 runs") { db in
            let copied = "seq, id, task, queue, schedule, scheduled_for, attempt, status, final, worker, started_at, finished_at, "
                + "duration_ms, exit_code, output, error, result, at_ms, stored_ms, traceparent"
            try db.execute(sql: """
                CREATE TABLE warren_result_runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, \(fields), traceparent TEXT,
                    run_id TEXT NOT NULL DEFAULT '', redelivered INTEGER NOT NULL DEFAULT 0, UNIQUE (id, attempt, run_id));
                INSERT INTO warren_result_runs (\(copied)) SELECT \(copied) FROM warren_result_attempts ORDER BY seq;
                DELETE FROM sqlite_sequence WHERE name = 'warren_result_runs';
                INSERT INTO sqlite_sequence (name, seq) SELECT 'warren_result_runs', seq FROM sqlite_sequence WHERE name = 'warren_result_attempts';
                DROP TABLE warren_result_attempts;
                ALTER TABLE warren_result_runs RENAME TO warren_result_attempts;
                CREATE INDEX warren_result_attempts_at ON warren_result_attempts (at_ms);
                ALTER TABLE warren_results ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
                ALTER TABLE warren_results ADD COLUMN redelivered INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v4 trigger") { db in
            try db.execute(sql: """
                ALTER TABLE warren_result_attempts ADD COLUMN trigger TEXT;
                ALTER TABLE warren_results ADD COLUMN trigger TEXT;
                """)
        }
        migrator.registerMigration("v5 args") { db in
            try db.execute(sql: """
                ALTER TABLE warren_result_attempts ADD COLUMN args TEXT;
                ALTER TABLE warren_results ADD COLUMN args TEXT;
                """)
        }
        migrator.registerMigration("v6 batch") { db in
            try db.execute(sql: """
                ALTER TABLE warren_result_attempts ADD COLUMN batch TEXT;
                ALTER TABLE warren_results ADD COLUMN batch TEXT;
                CREATE INDEX warren_results_batch_at ON warren_results (batch, at_ms) WHERE batch IS NOT NULL;
                """)
        }
        migrator.registerMigration("v7 published_at") { db in
            try db.execute(sql: """
                ALTER TABLE warren_result_attempts ADD COLUMN published_at TEXT;
                ALTER TABLE warren_results ADD COLUMN published_at TEXT;
                """)
        }
        migrator.registerMigration("v8 workflows") { db in
            try db.execute(sql: """
                CREATE TABLE warren_workflow_runs (id TEXT NOT NULL PRIMARY KEY, workflow TEXT NOT NULL, record TEXT NOT NULL,
                    status TEXT, started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL) WITHOUT ROWID;
                CREATE INDEX warren_workflow_runs_started ON warren_workflow_runs (started_ms);
                """)
        }
        return migrator
    }

    /// The columns of v1 (later migrations add to them).
    private static let fields = """
        id TEXT NOT NULL, task TEXT NOT NULL, queue TEXT NOT NULL, schedule TEXT, scheduled_for TEXT,
        attempt INTEGER NOT NULL, status TEXT NOT NULL, final INTEGER NOT NULL, worker TEXT,
        started_at TEXT, finished_at TEXT, duration_ms INTEGER, exit_code INTEGER, output TEXT, error TEXT,
        result TEXT, at_ms INTEGER NOT NULL, stored_ms INTEGER NOT NULL
        """

    /// Number of migrations this build knows.
    static var latestVersion: Int { migrator.migrations.count }
}

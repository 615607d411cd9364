import GRDB

/// The SQLite schema, as versioned migrations (GRDB's `DatabaseMigrator` records which ran).
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            let fields = """
                id TEXT NOT NULL, task TEXT NOT NULL, queue TEXT NOT NULL, schedule TEXT, scheduled_for TEXT,
                attempt INTEGER NOT NULL, status TEXT NOT NULL, final INTEGER NOT NULL, worker TEXT,
                started_at TEXT, finished_at TEXT, duration_ms INTEGER, exit_code INTEGER, output TEXT, error TEXT,
                result TEXT, at_ms INTEGER NOT NULL, stored_ms INTEGER NOT NULL
                """
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
        return migrator
    }

    /// Number of migrations this build knows.
    static var latestVersion: Int { migrator.migrations.count }
}

/// The PostgreSQL schema, as numbered migrations recorded in `warren_schema` (applied in one
/// transaction each, under an advisory lock so two backends starting together migrate once).
enum PostgresSchema {
    /// Key of the advisory lock held while migrating.
    static let migrationLock: Int64 = 0x5741_5252_454E  // "WARREN"

    /// Each migration's statements (one statement per query: the extended protocol takes no more).
    static let migrations: [[String]] = [
        [  // 1
            "CREATE TABLE warren_result_attempts (seq bigserial PRIMARY KEY, \(fields), UNIQUE (id, attempt))",
            "CREATE INDEX warren_result_attempts_at ON warren_result_attempts (at_ms)",
            "CREATE TABLE warren_results (\(fields), PRIMARY KEY (id))",
            "CREATE INDEX warren_results_at ON warren_results (at_ms)",
            "CREATE INDEX warren_results_task_at ON warren_results (task, at_ms)",
            "CREATE INDEX warren_results_schedule_at ON warren_results (schedule, at_ms)",
            "CREATE INDEX warren_results_status_at ON warren_results (status, at_ms)",
        ],
        [  // 2
            "ALTER TABLE warren_result_attempts ADD COLUMN traceparent text",
            "ALTER TABLE warren_results ADD COLUMN traceparent text",
        ],
        [  // 3: one row per run of an attempt
            "ALTER TABLE warren_result_attempts ADD COLUMN run_id text NOT NULL DEFAULT ''",
            "ALTER TABLE warren_result_attempts ADD COLUMN redelivered boolean NOT NULL DEFAULT false",
            "ALTER TABLE warren_result_attempts DROP CONSTRAINT warren_result_attempts_id_attempt_key",
            "ALTER TABLE warren_result_attempts ADD CONSTRAINT warren_result_attempts_run_key UNIQUE (id, attempt, run_id)",
            "ALTER TABLE warren_results ADD COLUMN run_id text NOT NULL DEFAULT ''",
            "ALTER TABLE warren_results ADD COLUMN redelivered boolean NOT NULL DEFAULT false",
        ],
        [  // 4: why a schedule's task went out (x-warren-trigger)
            "ALTER TABLE warren_result_attempts ADD COLUMN trigger text",
            "ALTER TABLE warren_results ADD COLUMN trigger text",
        ],
        [  // 5: what each task was called with
            "ALTER TABLE warren_result_attempts ADD COLUMN args text",
            "ALTER TABLE warren_results ADD COLUMN args text",
        ],
        [  // 6: the batch a task was published in (x-warren-batch), listed by batch
            "ALTER TABLE warren_result_attempts ADD COLUMN batch text",
            "ALTER TABLE warren_results ADD COLUMN batch text",
            "CREATE INDEX warren_results_batch_at ON warren_results (batch, at_ms) WHERE batch IS NOT NULL",
        ],
        [  // 7: when each task entered its queue (x-warren-published-ms), for queue wait
            "ALTER TABLE warren_result_attempts ADD COLUMN published_at text",
            "ALTER TABLE warren_results ADD COLUMN published_at text",
        ],
        [  // 8: workflow runs (docs/workflows.md)
            "CREATE TABLE warren_workflow_runs (id text PRIMARY KEY, workflow text NOT NULL, record text NOT NULL, status text, started_ms bigint NOT NULL, updated_ms bigint NOT NULL)",
            "CREATE INDEX warren_workflow_runs_started ON warren_workflow_runs (started_ms)",
        ],
    ]

    private static let fields = """
        id text NOT NULL, task text NOT NULL, queue text NOT NULL, schedule text, scheduled_for text,
        attempt integer NOT NULL, status text NOT NULL, final boolean NOT NULL, worker text,
        started_at text, finished_at text, duration_ms bigint, exit_code integer, output text, error text,
        result text, at_ms bigint NOT NULL, stored_ms bigint NOT NULL
        """

    /// The `jsonb_to_recordset` column list matching `ResultColumns.written`.
    static let recordsetColumns = """
        id text, task text, queue text, schedule text, scheduled_for text, attempt integer, status text,
        final boolean, worker text, started_at text, finished_at text, duration_ms bigint, exit_code integer,
        output text, error text, result text, at_ms bigint, stored_ms bigint, traceparent text, run_id text, redelivered boolean,
        trigger text, args text, batch text, published_at text
        """
}

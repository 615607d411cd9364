/// The columns both stores share, in the order statements bind them.
enum ResultColumns {
    /// Written for each row, in bind order.
    static let written = ["id", "task", "queue", "schedule", "scheduled_for", "attempt", "status", "final", "worker",
                          "started_at", "finished_at", "duration_ms", "exit_code", "output", "error", "result",
                          "at_ms", "stored_ms", "traceparent", "run_id", "redelivered", "trigger", "args", "batch", "published_at"]

    /// The fields of a result as `TaskResult.decode` reads them, as a JSON-object expression's
    /// key/column pairs; `json(result)` is the dialect's way to embed stored JSON text and
    /// `bool(column)` its way to write a stored boolean as JSON `true`/`false`.
    static func jsonObjectArguments(json: (String) -> String, bool: (String) -> String) -> String {
        let fields = ["id", "task", "queue", "schedule", "scheduled_for", "attempt", "status", "worker", "started_at",
                      "finished_at", "duration_ms", "exit_code", "output", "error", "traceparent", "trigger", "batch", "published_at"]
        return (fields.map { "'\($0)', \($0)" } + ["'result', \(json("result"))", "'args', \(json("args"))", "'run_id', nullif(run_id, '')",
                                                   "'redelivered', \(bool("redelivered"))"]).joined(separator: ", ")
    }

    /// The order of `attempts(of:)`: by attempt, then the run of the first delivery before
    /// redelivered ones, then by time (finish, else start, else storage) and storage order.
    static let attemptOrder = "attempt, redelivered, at_ms, seq"

    /// The key of `warren_result_attempts`: one row per run of an attempt.
    static let attemptKey = "id, attempt, run_id"

    /// `SET task = excluded.task, …` for every written column but the key columns.
    static func updateAssignments(excluding keys: Set<String>) -> String {
        written.filter { !keys.contains($0) }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
    }
}

/// The columns both stores share, in the order statements bind them.
enum ResultColumns {
    /// Written for each row, in bind order.
    static let written = ["id", "task", "queue", "schedule", "scheduled_for", "attempt", "status", "final", "worker",
                          "started_at", "finished_at", "duration_ms", "exit_code", "output", "error", "result",
                          "at_ms", "stored_ms", "traceparent"]

    /// The fields of a result as `TaskResult.decode` reads them, as a JSON-object expression's
    /// key/column pairs; `json(result)` is the dialect's way to embed stored JSON text.
    static func jsonObjectArguments(json: (String) -> String) -> String {
        let fields = ["id", "task", "queue", "schedule", "scheduled_for", "attempt", "status", "worker", "started_at",
                      "finished_at", "duration_ms", "exit_code", "output", "error", "traceparent"]
        return (fields.map { "'\($0)', \($0)" } + ["'result', \(json("result"))"]).joined(separator: ", ")
    }

    /// `SET task = excluded.task, …` for every written column but the key columns.
    static func updateAssignments(excluding keys: Set<String>) -> String {
        written.filter { !keys.contains($0) }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
    }
}

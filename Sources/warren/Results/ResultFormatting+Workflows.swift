import WarrenCore

extension ResultFormatting {
    /// A workflow run's graph for `warren results show`: one line per step with its state, what
    /// it runs after, its run time and task id.
    static func workflow(_ run: WorkflowRun, steps results: [TaskResult]) -> String {
        var lines = ["workflow  \(run.definition.name)", "run       \(run.id)", "status    \(run.state)"]
        if let schedule = run.schedule { lines.append("schedule  \(schedule) (fire for \(run.scheduledFor ?? "?"))") }
        lines.append("args      \(run.args.jsonText)")
        lines.append("")
        let table = TerminalTable([
            .init(title: "STEP", width: nil), .init(title: "STATE", width: 9), .init(title: "TOOK", width: 8, alignRight: true),
            .init(title: "TRY", width: 3, alignRight: true), .init(title: "TASK", width: nil), .init(title: "AFTER", width: nil),
            .init(title: "TASK ID", width: nil),
        ])
        let rows = run.stepStates(latest: results).map { step, state, result in
            [step.name, state, duration(milliseconds: result?.durationMs), result.map { "\($0.attempt)" } ?? "-", step.task,
             step.after.isEmpty ? "-" : step.after.joined(separator: ","), WorkflowDefinition.stepTaskID(run: run.id, step: step.name)]
        }
        let widths = table.widths(for: rows)
        lines.append(table.line(["STEP", "STATE", "TOOK", "TRY", "TASK", "AFTER", "TASK ID"], widths: widths))
        for row in rows { lines.append(table.line(row, widths: widths)) }
        return lines.joined(separator: "\n")
    }

    /// The same as one JSON object (`WorkflowRun.graphJSON`).
    static func workflowJSON(_ run: WorkflowRun, steps results: [TaskResult]) -> JSONValue {
        .object(["workflow": run.graphJSON(latest: results)])
    }
}

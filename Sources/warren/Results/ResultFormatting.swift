import Foundation
import WarrenCore

/// How `warren results` and `warren publish --wait` show results.
enum ResultFormatting {
    /// `12ms`, `1.50s`, `2m03s`, `1h02m`.
    static func duration(milliseconds: Int64?) -> String {
        guard let milliseconds else { return "-" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds < 60_000 { return String(format: "%.2fs", Double(milliseconds) / 1000) }
        let seconds = milliseconds / 1000
        if seconds < 3600 { return String(format: "%dm%02ds", seconds / 60, seconds % 60) }
        return String(format: "%dh%02dm", seconds / 3600, seconds / 60 % 60)
    }

    /// `2026-11-23 10:00:00` from an ISO-8601 instant, as written (UTC for worker times).
    static func time(_ text: String?) -> String {
        guard let text else { return "-" }
        let trimmed = text.replacingOccurrences(of: "T", with: " ")
        return String(trimmed.prefix(19))
    }

    /// The list table: one row per task id.
    static let listColumns: [TerminalTable.Column] = [
        .init(title: "FINISHED (UTC)", width: 19), .init(title: "STATUS", width: 9), .init(title: "TOOK", width: 8, alignRight: true),
        .init(title: "TRY", width: 3, alignRight: true), .init(title: "TASK", width: nil), .init(title: "SCHEDULE", width: nil),
        .init(title: "ID", width: nil),
    ]

    static func listRow(_ result: TaskResult) -> [String] {
        [time(result.finishedAt ?? result.startedAt), result.status.rawValue, duration(milliseconds: result.durationMs),
         "\(result.attempt)", result.task, result.schedule ?? "-", result.id]
    }

    /// One result as one line of JSON: every field of SPEC §3a, null when absent.
    static func jsonLine(_ result: TaskResult) -> String {
        (try? String(decoding: result.jsonData(), as: UTF8.self)) ?? "{}"
    }

    /// Every attempt of a task, for `warren results show`.
    static func attempts(_ attempts: [TaskResult]) -> String {
        guard let first = attempts.first else { return "" }
        var lines = ["id        \(first.id)", "task      \(first.task)", "queue     \(first.queue)"]
        if let schedule = first.schedule { lines.append("schedule  \(schedule) (fire for \(first.scheduledFor ?? "?"))") }
        if let batch = attempts.last(where: { $0.batch != nil })?.batch { lines.append("batch     \(batch)") }
        if let args = attempts.last(where: { $0.args != nil })?.args { lines.append("args      \(args.jsonText)") }
        for (attempt, heading) in zip(attempts, runHeadings(attempts)) {
            lines.append("")
            lines.append("\(heading): \(attempt.status.rawValue)"
                         + (attempt.durationMs.map { " (ran \(duration(milliseconds: $0)))" } ?? ""))
            if let runID = attempt.runID { lines.append("  run       \(runID)") }
            if let worker = attempt.worker { lines.append("  worker    \(worker)") }
            if let started = attempt.startedAt { lines.append("  started   \(started)") }
            if let finished = attempt.finishedAt { lines.append("  finished  \(finished)") }
            if let exitCode = attempt.exitCode { lines.append("  exit code \(exitCode)") }
            if let error = attempt.error { lines.append("  error     \(error)") }
            if let result = attempt.result { lines.append("  result    \(result.jsonText)") }
            if let traceparent = attempt.traceparent { lines.append("  trace     \(traceparent)") }
            if let output = attempt.output, !output.isEmpty {
                lines.append("  output:")
                lines += output.split(separator: "\n", omittingEmptySubsequences: false).map { "    | \($0)" }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The heading of each stored run, given in the store's order: `attempt 2`; for an attempt
    /// that ran more than once `attempt 1, run 2 (redelivered)`; a lone run of a redelivered
    /// delivery (an earlier run may have left no result) `attempt 1 (redelivered)`.
    static func runHeadings(_ attempts: [TaskResult]) -> [String] {
        var runs: [Int: Int] = [:]
        for attempt in attempts { runs[attempt.attempt, default: 0] += 1 }
        var seen: [Int: Int] = [:]
        return attempts.map { attempt in
            seen[attempt.attempt, default: 0] += 1
            let run = runs[attempt.attempt, default: 1] > 1 ? ", run \(seen[attempt.attempt, default: 1])" : ""
            return "attempt \(attempt.attempt)\(run)" + (attempt.redelivered ? " (redelivered)" : "")
        }
    }
}

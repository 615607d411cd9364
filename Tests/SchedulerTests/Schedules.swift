import Cron
import Testing
import WarrenCore

/// Schedules from YAML text, as a schedule file declares them.
func schedules(_ yaml: String, file: String = "test.yaml") -> [ScheduleDefinition] {
    let parsed = ScheduleFileParser.parse(yaml: yaml, file: file)
    #expect(parsed.errors.isEmpty, "\(parsed.errors)")
    return parsed.schedules
}

/// One schedule from its settings (indented YAML lines under the name `name`).
func schedule(_ settings: String, name: String = "job") -> ScheduleDefinition {
    let indented = settings.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
    return schedules("schedules:\n  \(name):\n    task: warren.echo\n\(indented)\n")[0]
}

/// Seconds since the epoch of an ISO-8601 time with offset.
func instant(_ text: String) -> Int64 {
    try! Timestamp.parse(text, in: .utc)
}

/// Milliseconds since the epoch of an ISO-8601 time with offset.
func milliseconds(_ text: String) -> Int64 { instant(text) * 1000 }

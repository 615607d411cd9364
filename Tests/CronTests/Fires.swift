@testable import Cron

/// The next `count` fires of `expression` in `zone` strictly after `from`, as ISO-8601 text.
func fires(
    _ expression: String, in zone: String = "UTC", from: String, count: Int = 3, policy: DaylightSavingPolicy = .default
) throws -> [String] {
    let rules = ZoneRules.named(zone)!
    let timetable = Timetable(recurrence: try Recurrence(parsing: expression), zone: rules, policy: policy)
    let start = try Timestamp.parse(from, in: rules)
    return timetable.fires(after: start, count: count).map { Timestamp.format($0, in: rules) }
}

/// The same fires, each followed by ` # ` and its explanation when it has one.
func explainedFires(
    _ expression: String, in zone: String, from: String, count: Int = 3, policy: DaylightSavingPolicy = .default
) throws -> [String] {
    let rules = ZoneRules.named(zone)!
    let timetable = Timetable(recurrence: try Recurrence(parsing: expression), zone: rules, policy: policy)
    let start = try Timestamp.parse(from, in: rules)
    return timetable.fires(after: start, count: count).map { fire in
        Timestamp.format(fire, in: rules) + (timetable.explain(fire: fire).map { " # \($0)" } ?? "")
    }
}

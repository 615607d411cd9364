@testable import Cron

/// The next `count` fires of `expression` in `zone` strictly after `from`, as ISO-8601 text.
func fires(_ expression: String, in zone: String = "UTC", from: String, count: Int = 3) throws -> [String] {
    let rules = ZoneRules.named(zone)!
    let timetable = Timetable(recurrence: try Recurrence(parsing: expression), zone: rules)
    let start = try Timestamp.parse(from, in: rules)
    return timetable.fires(after: start, count: count).map { Timestamp.format($0, in: rules) }
}

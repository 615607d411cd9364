/// A parsed cron expression: 5 fields (minute hour day-of-month month day-of-week), 6 with a
/// leading seconds field, or a macro such as `@daily`. Pure value; see `CronSchedule` for fire
/// times in a time zone.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as written, with runs of blanks collapsed.
    public let text: String
    /// Whether the expression has a seconds field.
    public let hasSeconds: Bool
    /// cronie's *wildcard job*: the minute or hour field starts with `*` (or is `?`). Such jobs
    /// follow real time across daylight-saving changes; all others are *fixed-time jobs*.
    public let isWildcardJob: Bool

    let seconds: UInt64
    let minutes: UInt64
    let hours: UInt64
    let months: UInt64
    let daysOfMonth: DayOfMonthRule
    let daysOfWeek: DayOfWeekRule
    /// Vixie cron: a day field starting with `*`, or `?`, does not restrict; when either day
    /// field is unrestricted a day must match both, otherwise it must match either.
    let dayFieldsCombineWithAnd: Bool

    /// Parses `text`; throws an error naming the field and column at fault, and refuses
    /// expressions that can never fire.
    public init(parsing text: String) throws(CronSyntaxError) {
        self = try CronParser.parse(text)
    }

    init(
        text: String, hasSeconds: Bool, isWildcardJob: Bool,
        seconds: UInt64, minutes: UInt64, hours: UInt64, months: UInt64,
        daysOfMonth: DayOfMonthRule, daysOfWeek: DayOfWeekRule, dayFieldsCombineWithAnd: Bool
    ) {
        self.text = text
        self.hasSeconds = hasSeconds
        self.isWildcardJob = isWildcardJob
        self.seconds = seconds
        self.minutes = minutes
        self.hours = hours
        self.months = months
        self.daysOfMonth = daysOfMonth
        self.daysOfWeek = daysOfWeek
        self.dayFieldsCombineWithAnd = dayFieldsCombineWithAnd
    }

    public var description: String { text }

    /// Whether the date is selected by the month and day fields.
    func matchesDate(year: Int64, month: Int, day: Int) -> Bool {
        guard months & (1 << UInt64(month)) != 0 else { return false }
        let daysInMonth = CivilTime.daysInMonth(year: year, month: month)
        guard day <= daysInMonth else { return false }
        return matchesDay(year: year, month: month, day: day, daysInMonth: daysInMonth)
    }

    /// Whether the day is selected by the two day fields (month already checked).
    func matchesDay(year: Int64, month: Int, day: Int, daysInMonth: Int) -> Bool {
        let weekday = CivilTime.weekday(days: CivilTime.days(year: year, month: month, day: day))
        let byMonthDay = daysOfMonth.matches(day: day, weekday: weekday, daysInMonth: daysInMonth)
        if dayFieldsCombineWithAnd && !byMonthDay { return false }
        if !dayFieldsCombineWithAnd && byMonthDay { return true }
        return daysOfWeek.matches(day: day, weekday: weekday, daysInMonth: daysInMonth)
    }

    /// Whether the wall-clock time is selected by every field.
    func matches(_ time: LocalDateTime) -> Bool {
        seconds & (1 << UInt64(time.second)) != 0
            && minutes & (1 << UInt64(time.minute)) != 0
            && hours & (1 << UInt64(time.hour)) != 0
            && matchesDate(year: time.year, month: time.month, day: time.day)
    }

    /// Whether some date of the 400-year Gregorian cycle (after which weekdays and leap years
    /// repeat) is selected; if none is, the expression can never fire.
    var canEverFire: Bool {
        for year in Int64(2000)..<2400 {
            for month in 1...12 where months & (1 << UInt64(month)) != 0 {
                let daysInMonth = CivilTime.daysInMonth(year: year, month: month)
                for day in 1...daysInMonth where matchesDay(year: year, month: month, day: day, daysInMonth: daysInMonth) {
                    return true
                }
            }
        }
        return false
    }
}

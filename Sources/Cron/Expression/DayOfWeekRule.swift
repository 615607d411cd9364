/// The days a day-of-week field selects, Quartz extensions included.
struct DayOfWeekRule: Sendable, Hashable {
    /// Bit n set: weekday n (0 = Sunday … 6 = Saturday).
    var weekdays: UInt64 = 0
    /// Bit n set: `nL`, the last weekday n of the month.
    var lastInMonth: UInt64 = 0
    /// Bit `(k - 1) * 7 + n` set: `n#k`, the k-th weekday n of the month.
    var nthInMonth: UInt64 = 0

    func matches(day: Int, weekday: Int, daysInMonth: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(weekday)
        if weekdays & bit != 0 { return true }
        if lastInMonth & bit != 0, day + 7 > daysInMonth { return true }
        if nthInMonth != 0, nthInMonth & (1 << UInt64((day - 1) / 7 * 7 + weekday)) != 0 { return true }
        return false
    }
}

/// The days a day-of-month field selects, Quartz extensions included.
struct DayOfMonthRule: Sendable, Hashable {
    /// Bit n set: day n (1–31).
    var days: UInt64 = 0
    /// Bit n set: the n-th day before the last one (`L` is n = 0, `L-3` is n = 3).
    var fromLast: UInt64 = 0
    /// `LW`: the last weekday (Monday–Friday) of the month.
    var lastWeekday = false
    /// Bit n set: `nW`, the weekday nearest day n, never crossing into another month.
    var nearestWeekday: UInt64 = 0

    /// Whether day `day` of a month of `daysInMonth` days, falling on `weekday` (0 = Sunday),
    /// is selected.
    func matches(day: Int, weekday: Int, daysInMonth: Int) -> Bool {
        if days & (1 << UInt64(day)) != 0 { return true }
        if fromLast != 0, fromLast & (1 << UInt64(daysInMonth - day)) != 0 { return true }
        if lastWeekday {
            // Days back from the last day to the last Monday–Friday.
            let lastDayWeekday = (weekday + daysInMonth - day) % 7
            let back = lastDayWeekday == 6 ? 1 : lastDayWeekday == 0 ? 2 : 0
            if day == daysInMonth - back { return true }
        }
        if nearestWeekday != 0 {
            // Only the target days within a day or two of `day` can move onto it.
            for target in max(1, day - 2)...min(31, day + 2) where nearestWeekday & (1 << UInt64(target)) != 0 {
                if Self.nearestWeekday(to: target, daysInMonth: daysInMonth, weekdayOfTarget: (weekday + target - day + 7) % 7) == day {
                    return true
                }
            }
        }
        return false
    }

    /// Quartz `nW`: the weekday nearest day `target`; nil when the month has no such day.
    static func nearestWeekday(to target: Int, daysInMonth: Int, weekdayOfTarget: Int) -> Int? {
        guard target <= daysInMonth else { return nil }
        switch weekdayOfTarget {
        case 6: return target == 1 ? 3 : target - 1  // Saturday: Friday, or Monday the 3rd
        case 0: return target == daysInMonth ? target - 2 : target + 1  // Sunday: Monday, or Friday
        default: return target
        }
    }
}

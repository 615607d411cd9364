/// Proleptic Gregorian calendar arithmetic on wall-clock times, with no time zone.
///
/// A wall-clock time is counted as seconds since 1970-01-01T00:00:00 *local*, so the same
/// arithmetic serves every zone; `ZoneRules` maps between these and real instants.
enum CivilTime {
    static let secondsPerDay: Int64 = 86_400

    /// Days since 1970-01-01 for a date (H. Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day counted since 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func date(days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Day of the week, 0 = Sunday … 6 = Saturday.
    static func weekday(days: Int64) -> Int {
        let w = (days + 4) % 7  // 1970-01-01 was a Thursday
        return Int(w >= 0 ? w : w + 7)
    }

    static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Floor division that rounds towards negative infinity.
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// A wall-clock date and time broken into fields.
struct LocalDateTime: Equatable {
    var year: Int64
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second) = (hour, minute, second)
    }

    /// Breaks wall-clock seconds since 1970-01-01T00:00 into fields.
    init(localSeconds: Int64) {
        let days = CivilTime.floorDivide(localSeconds, CivilTime.secondsPerDay)
        let secondOfDay = Int(localSeconds - days * CivilTime.secondsPerDay)
        let date = CivilTime.date(days: days)
        self.init(
            year: date.year, month: date.month, day: date.day,
            hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60
        )
    }

    /// Wall-clock seconds since 1970-01-01T00:00.
    var localSeconds: Int64 {
        CivilTime.days(year: year, month: month, day: day) * CivilTime.secondsPerDay
            + Int64(hour * 3600 + minute * 60 + second)
    }
}

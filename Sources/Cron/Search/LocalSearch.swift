extension CronExpression {
    /// The first wall-clock time at or after `start` that every field selects, if one comes
    /// before `limit` (both wall-clock seconds since 1970-01-01T00:00).
    func firstMatch(atOrAfter start: Int64, before limit: Int64) -> Int64? {
        var time = LocalDateTime(localSeconds: start)
        var dayStart = time.localSeconds - Int64(time.hour * 3600 + time.minute * 60 + time.second)
        while dayStart < limit {
            if months & (1 << UInt64(time.month)) == 0 {
                if let month = Self.nextBit(months, from: time.month + 1), month <= 12 {
                    time.month = month
                } else {
                    time.year += 1
                    time.month = months.trailingZeroBitCount
                }
                time.day = 1
                (time.hour, time.minute, time.second) = (0, 0, 0)
                dayStart = time.localSeconds
                continue
            }
            let daysInMonth = CivilTime.daysInMonth(year: time.year, month: time.month)
            if !matchesDay(year: time.year, month: time.month, day: time.day, daysInMonth: daysInMonth) {
                advanceDay(&time, daysInMonth: daysInMonth, dayStart: &dayStart)
                continue
            }
            guard let hour = Self.nextBit(hours, from: time.hour) else {
                advanceDay(&time, daysInMonth: daysInMonth, dayStart: &dayStart)
                continue
            }
            if hour != time.hour { (time.hour, time.minute, time.second) = (hour, 0, 0) }
            guard let minute = Self.nextBit(minutes, from: time.minute) else {
                if time.hour == 23 {
                    advanceDay(&time, daysInMonth: daysInMonth, dayStart: &dayStart)
                } else {
                    (time.hour, time.minute, time.second) = (time.hour + 1, 0, 0)
                }
                continue
            }
            if minute != time.minute { (time.minute, time.second) = (minute, 0) }
            guard let second = Self.nextBit(seconds, from: time.second) else {
                if time.minute == 59 {
                    if time.hour == 23 {
                        advanceDay(&time, daysInMonth: daysInMonth, dayStart: &dayStart)
                    } else {
                        (time.hour, time.minute, time.second) = (time.hour + 1, 0, 0)
                    }
                } else {
                    (time.minute, time.second) = (time.minute + 1, 0)
                }
                continue
            }
            let found = dayStart + Int64(time.hour * 3600 + time.minute * 60 + second)
            return found < limit ? found : nil
        }
        return nil
    }

    private func advanceDay(_ time: inout LocalDateTime, daysInMonth: Int, dayStart: inout Int64) {
        if time.day < daysInMonth {
            time.day += 1
        } else if time.month < 12 {
            (time.month, time.day) = (time.month + 1, 1)
        } else {
            (time.year, time.month, time.day) = (time.year + 1, 1, 1)
        }
        (time.hour, time.minute, time.second) = (0, 0, 0)
        dayStart += CivilTime.secondsPerDay
    }

    /// The smallest set bit at or above `position`, if any.
    @inline(__always)
    static func nextBit(_ mask: UInt64, from position: Int) -> Int? {
        guard position < 64 else { return nil }
        let shifted = mask >> UInt64(position)
        return shifted == 0 ? nil : position + shifted.trailingZeroBitCount
    }
}

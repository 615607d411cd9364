import Foundation
@testable import Cron

/// The slow, obviously-correct definition of when a cron expression fires, checked against
/// `CronSchedule`: walk real time minute by minute (second by second inside selected minutes),
/// reading offsets from Foundation's `TimeZone` directly rather than from `ZoneRules`.
///
/// For fixed-time jobs the policy decides: `shift` fires at the first instant after a gap that
/// hides a selected time, `skip` does not; `first` drops an instant whose wall-clock time an
/// earlier instant had, `last` one whose wall-clock time a later instant has, `both` neither.
struct BruteForceOracle {
    let expression: CronExpression
    let zone: TimeZone
    var policy: DaylightSavingPolicy = .default

    func offset(_ instant: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }

    /// The first fire strictly after `instant` within `limit` seconds, or nil.
    func nextFire(after instant: Int64, within limit: Int64) -> Int64? {
        var minute = (instant + 1) - ((instant + 1) % 60 + 60) % 60  // the minute holding instant+1
        while minute <= instant + limit {
            for second in firingSeconds(inMinuteStartingAt: minute) where second > instant {
                return second
            }
            minute += 60
        }
        return nil
    }

    /// The fires within one real minute, ascending.
    func firingSeconds(inMinuteStartingAt minute: Int64) -> [Int64] {
        var fires: [Int64] = []
        let minuteOffset = offset(minute)
        let minuteTime = LocalDateTime(localSeconds: minute + minuteOffset)
        let minuteSelected = expression.minutes & (1 << UInt64(minuteTime.minute)) != 0
            && expression.hours & (1 << UInt64(minuteTime.hour)) != 0
            && expression.matchesDate(year: minuteTime.year, month: minuteTime.month, day: minuteTime.day)
        let offsetChangesNearby = offset(minute - 1) != minuteOffset || offset(minute + 59) != minuteOffset
        if !minuteSelected && !offsetChangesNearby { return [] }
        for instant in minute..<(minute + 60) {
            let instantOffset = offset(instant)
            if instantOffset != offset(instant - 1), !expression.isWildcardJob, policy.gap == .shift,
                instantOffset > offset(instant - 1)
            {
                // A gap ends here: a fixed-time job fires for any selected time inside it.
                if gapHasSelectedTime(from: instant + offset(instant - 1), to: instant + instantOffset) {
                    fires.append(instant)
                    continue
                }
            }
            guard minuteSelected || instantOffset != minuteOffset else { continue }
            let local = LocalDateTime(localSeconds: instant + instantOffset)
            guard expression.matches(local) else { continue }
            if !expression.isWildcardJob {
                switch policy.overlap {
                case .first: if isSecondPass(instant, local: instant + instantOffset) { continue }
                case .last: if isFirstPass(instant, local: instant + instantOffset) { continue }
                case .both: break
                }
            }
            fires.append(instant)
        }
        return fires
    }

    func gapHasSelectedTime(from start: Int64, to end: Int64) -> Bool {
        var local = start
        while local < end {
            if expression.matches(LocalDateTime(localSeconds: local)) { return true }
            local += 1
        }
        return false
    }

    /// Whether an earlier instant had the same wall-clock time.
    func isSecondPass(_ instant: Int64, local: Int64) -> Bool {
        let current = offset(instant)
        for other in Set([offset(instant - 86_400), offset(instant + 86_400)]) where other != current {
            let earlier = local - other
            if earlier < instant, offset(earlier) == other { return true }
        }
        return false
    }

    /// Whether a later instant has the same wall-clock time.
    func isFirstPass(_ instant: Int64, local: Int64) -> Bool {
        let current = offset(instant)
        for other in Set([offset(instant - 86_400), offset(instant + 86_400)]) where other != current {
            let later = local - other
            if later > instant, offset(later) == other { return true }
        }
        return false
    }
}

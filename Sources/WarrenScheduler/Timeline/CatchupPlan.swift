import Cron
import WarrenCore

/// What to do about one schedule's fires that came due while no scheduler was publishing
/// (SPEC §2, "Missed fires"): which to publish now, and how many are dropped and why.
public struct CatchupPlan: Sendable, Equatable {
    /// Fires to publish now, oldest first.
    public var run: [Fire] = []
    /// Missed fires in all (due after the last progress, at or before now).
    public var missed = 0
    /// Of those, fires older than `catchup_window`, never run.
    public var tooOld = 0
    /// Of those, fires within the window that the policy (`skip`, `latest`, the limit of
    /// `all`) does not run.
    public var skipped = 0
    /// True when the old fires were too many to count: `missed` and `tooOld` are lower bounds.
    public var countIncomplete = false
    /// The newest of the fires older than the window (at most `recordLimit`), each recorded as
    /// `missed`.
    public var tooOldFires: [Fire] = []
    /// The newest of the fires the policy does not run (at most `recordLimit`), each recorded as
    /// `skipped` with the reason `catchup-skip`.
    public var skippedFires: [Fire] = []

    /// Most fires of one schedule recorded one by one as `missed` or `skipped` per catch-up; the
    /// rest are counted (and logged) only.
    public static let recordLimit = 1000

    /// Most fires `catchup: all` publishes.
    public static let allLimit = 100
    /// Fires older than the window are counted up to this many per schedule.
    static let countLimit = 10_000

    public init() {}

    /// Plans the fires of `schedule` due after `watermark` and at or before `now` (both in
    /// milliseconds since the epoch).
    public init(schedule: ScheduleDefinition, after watermark: Int64, upTo now: Int64) {
        guard !schedule.paused, now > watermark else { return }
        let timetable = schedule.timetable
        let (windowSeconds, windowAttoseconds) = schedule.catchupWindow.components
        let oldest = now - windowSeconds * 1000 - windowAttoseconds / 1_000_000_000_000_000
        var candidates: [Fire] = []
        var cursor = watermark
        // Fires older than the window: counted (up to a limit), never run.
        if oldest > watermark {
            var instant = floorDivide(watermark, 1000) - schedule.jitter.components.seconds - 2
            while let next = timetable.nextFire(after: instant), next * 1000 < oldest {
                instant = next
                let fire = Fire(schedule: schedule.name, scheduledFor: next, jitter: schedule.jitter)
                guard fire.due > watermark, fire.due <= now else { continue }
                tooOld += 1
                tooOldFires.append(fire)
                if tooOldFires.count >= 2 * CatchupPlan.recordLimit { tooOldFires.removeFirst(CatchupPlan.recordLimit) }
                if tooOld >= CatchupPlan.countLimit {
                    countIncomplete = true
                    break
                }
            }
            cursor = max(watermark, oldest - schedule.jitter.components.seconds * 1000 - 2000)
        }
        var instant = floorDivide(cursor, 1000) - schedule.jitter.components.seconds - 2
        while let next = timetable.nextFire(after: instant) {
            instant = next
            let fire = Fire(schedule: schedule.name, scheduledFor: next, jitter: schedule.jitter)
            if next * 1000 < oldest || fire.due <= watermark { continue }
            if fire.due > now {
                if next * 1000 > now { break }
                continue
            }
            candidates.append(fire)
            if candidates.count > CatchupPlan.allLimit {
                skippedFires.append(candidates.removeFirst())
                if skippedFires.count >= 2 * CatchupPlan.recordLimit { skippedFires.removeFirst(CatchupPlan.recordLimit) }
                skipped += 1
            }
        }
        switch schedule.catchup {
        case .skip:
            skipped += candidates.count
            skippedFires += candidates
        case .latest:
            if let last = candidates.last { run = [last] }
            skipped += candidates.count - run.count
            skippedFires += candidates.dropLast()
        case .all:
            run = candidates
        }
        missed = tooOld + skipped + run.count
        tooOldFires = Array(tooOldFires.suffix(CatchupPlan.recordLimit))
        skippedFires = Array(skippedFires.suffix(CatchupPlan.recordLimit))
    }
}

import Testing
import WarrenCore
@testable import WarrenScheduler

@Suite struct CatchupPlanTests {
    let watermark = milliseconds("2026-05-01T10:00:00Z")

    @Test(arguments: [("skip", 0), ("latest", 1), ("all", 6)])
    func policyDecidesHowManyMissedFiresRun(policy: String, runs: Int) {
        // Down from 10:00 to 10:30: 6 fires of a 5-minute schedule (10:05 … 10:30) were missed.
        let plan = CatchupPlan(schedule: schedule("every: 5m\ncatchup: \(policy)"), after: watermark, upTo: milliseconds("2026-05-01T10:30:00Z"))
        #expect(plan.missed == 6)
        #expect(plan.run.count == runs)
        #expect(plan.skipped == 6 - runs)
        #expect(plan.tooOld == 0)
        #expect(plan.skippedFires.count == plan.skipped, "each fire the policy does not run is recorded")
        #expect(Set(plan.skippedFires).isDisjoint(with: plan.run))
        if policy == "latest" { #expect(plan.run.map(\.taskID) == ["job@2026-05-01T10:30:00Z"]) }
        if policy == "all" { #expect(plan.run.first?.taskID == "job@2026-05-01T10:05:00Z") }
    }

    @Test func firesOlderThanTheWindowNeverRun() {
        // Down for 3 hours with a 1h window: 10:05 … 13:00 missed, only 12:00 … 13:00 may run.
        let plan = CatchupPlan(schedule: schedule("every: 5m\ncatchup: all\ncatchup_window: 1h"), after: watermark, upTo: milliseconds("2026-05-01T13:00:00Z"))
        #expect(plan.missed == 36)
        #expect(plan.tooOld == 23)
        #expect(plan.tooOldFires.count == 23, "each recorded as missed")
        #expect(plan.tooOldFires.first?.taskID == "job@2026-05-01T10:05:00Z")
        #expect(plan.tooOldFires.last?.taskID == "job@2026-05-01T11:55:00Z")
        #expect(plan.run.count == 13)
        #expect(plan.run.first?.taskID == "job@2026-05-01T12:00:00Z")
        #expect(plan.run.last?.taskID == "job@2026-05-01T13:00:00Z")
    }

    @Test func allRunsAtMostTheLatestHundred() {
        let plan = CatchupPlan(schedule: schedule("every: 1m\ncatchup: all\ncatchup_window: 1d"), after: watermark, upTo: milliseconds("2026-05-01T13:00:00Z"))
        #expect(plan.missed == 180)
        #expect(plan.run.count == CatchupPlan.allLimit)
        #expect(plan.skipped == 80)
        #expect(plan.skippedFires.first?.taskID == "job@2026-05-01T10:01:00Z")
        #expect(plan.skippedFires.last?.taskID == "job@2026-05-01T11:20:00Z")
        #expect(plan.run.last?.taskID == "job@2026-05-01T13:00:00Z")
        #expect(plan.run.map(\.due) == plan.run.map(\.due).sorted())
    }

    @Test func nothingIsMissedWithoutDowntimeOrWhilePaused() {
        #expect(CatchupPlan(schedule: schedule("every: 5m"), after: watermark, upTo: watermark).missed == 0)
        #expect(CatchupPlan(schedule: schedule("every: 5m\npaused: true"), after: watermark, upTo: watermark + 3_600_000).missed == 0)
        // A fire due exactly at the watermark was published before it.
        #expect(CatchupPlan(schedule: schedule("every: 5m"), after: watermark, upTo: watermark + 299_999).missed == 0)
    }

    @Test func jitteredFiresCountByTheirDueTime() {
        let definition = schedule("cron: \"0 * * * *\"\njitter: 10m\ncatchup: all\ncatchup_window: 1d")
        let now = milliseconds("2026-05-01T15:00:00Z")
        let plan = CatchupPlan(schedule: definition, after: watermark, upTo: now)
        let expected = (0...5).map { Fire(schedule: "job", scheduledFor: watermark / 1000 + Int64($0) * 3600, jitter: .seconds(600)) }
            .filter { $0.due > watermark && $0.due <= now }
        #expect(plan.run == expected)
    }

    @Test func hugeDowntimeIsCountedUpToALimit() {
        let plan = CatchupPlan(schedule: schedule("every: 1s\ncatchup: latest"), after: watermark, upTo: watermark + 30 * 86_400_000)
        #expect(plan.countIncomplete)
        #expect(plan.tooOld == 10_000)
        #expect(plan.tooOldFires.count == CatchupPlan.recordLimit, "recorded one by one up to the limit, the newest")
        #expect(plan.tooOldFires.last?.taskID == "job@2026-05-01T12:46:40Z")
        #expect(plan.run.map(\.taskID) == ["job@2026-05-31T10:00:00Z"])
    }
}

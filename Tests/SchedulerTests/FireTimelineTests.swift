import Cron
import Testing
import WarrenCore
@testable import WarrenScheduler

@Suite struct FireTimelineTests {
    /// Pops every fire due up to `end`, as the scheduler would, one due instant at a time.
    func run(_ timeline: inout FireTimeline, until end: Int64) -> [Fire] {
        var fires: [Fire] = []
        while let due = timeline.nextDue(), due <= end {
            fires += timeline.popDue(upTo: due)
        }
        return fires
    }

    @Test func firesComeInDueOrderAcrossSchedules() {
        var timeline = FireTimeline()
        let start = milliseconds("2026-05-01T00:00:00Z")
        timeline.apply(schedules("""
            schedules:
              fast: { every: 20m, task: warren.echo }
              hourly: { cron: "0 * * * *", task: warren.echo }
              half: { cron: "30 * * * *", task: warren.echo }
            """), after: start)
        let fires = run(&timeline, until: start + 3_600_000)
        #expect(fires.map(\.schedule) == ["fast", "half", "fast", "fast", "hourly"])
        #expect(fires.map(\.due) == fires.map(\.due).sorted())
        #expect(fires.last?.taskID == "hourly@2026-05-01T01:00:00Z")
    }

    @Test func aBurstIsPoppedInBatchesEarliestFirst() {
        var timeline = FireTimeline()
        let start = milliseconds("2026-05-01T00:00:00Z")
        timeline.apply((0..<5).flatMap { schedules("schedules:\n  s\($0): { every: 1m, task: warren.echo }\n") }, after: start)
        let first = timeline.popDue(upTo: start + 60_000, limit: 3)
        #expect(first.count == 3)
        #expect(timeline.nextDue() == start + 60_000)
        let rest = timeline.popDue(upTo: start + 60_000, limit: 3)
        #expect(rest.count == 2)
        #expect(Set((first + rest).map(\.schedule)) == ["s0", "s1", "s2", "s3", "s4"])
        #expect(timeline.nextDue() == start + 120_000)
    }

    @Test func reloadKeepsUnchangedSchedulesAndRestartsChangedOnes() {
        var timeline = FireTimeline()
        let start = milliseconds("2026-05-01T00:00:00Z")
        timeline.apply(schedules("""
            schedules:
              keep: { every: 10m, task: warren.echo }
              change: { every: 10m, task: warren.echo }
              drop: { every: 10m, task: warren.echo }
              pause: { every: 10m, task: warren.echo }
            """), after: start)
        let changes = timeline.apply(schedules("""
            schedules:
              keep: { every: 10m, task: warren.echo }
              change: { every: 15m, task: warren.echo }
              pause: { every: 10m, task: warren.echo, paused: true }
              add: { every: 30m, task: warren.echo }
            """), after: start + 60_000)
        #expect(changes.added == ["add"])
        #expect(changes.changed == ["change", "pause"])
        #expect(changes.removed == ["drop"])
        #expect(changes.paused == ["pause"])
        let fires = run(&timeline, until: start + 1_800_000)
        #expect(fires.filter { $0.schedule == "keep" }.count == 3)
        #expect(fires.filter { $0.schedule == "change" }.count == 2)
        #expect(fires.filter { $0.schedule == "add" }.count == 1)
        #expect(!fires.contains { $0.schedule == "drop" || $0.schedule == "pause" })
        let resumed = timeline.apply(schedules("""
            schedules:
              pause: { every: 10m, task: warren.echo }
            """), after: start + 1_800_000)
        #expect(resumed.resumed == ["pause"])
        #expect(run(&timeline, until: start + 2_400_000).map(\.schedule) == ["pause"])
    }

    @Test func boundsAndJitterAreApplied() {
        var timeline = FireTimeline()
        let start = milliseconds("2026-05-01T00:00:00Z")
        timeline.apply(schedules("""
            schedules:
              bounded:
                every: 1h
                task: warren.echo
                start: 2026-05-01T02:00:00Z
                end: 2026-05-01T05:00:00Z
              jittered: { cron: "0 * * * *", task: warren.echo, jitter: 10m }
            """), after: start)
        let fires = run(&timeline, until: start + 24 * 3_600_000)
        #expect(fires.filter { $0.schedule == "bounded" }.map(\.taskID) ==
            ["bounded@2026-05-01T02:00:00Z", "bounded@2026-05-01T03:00:00Z", "bounded@2026-05-01T04:00:00Z"])
        let jittered = fires.filter { $0.schedule == "jittered" }
        #expect(jittered.count == 24)
        for fire in jittered {
            #expect(fire.due - fire.scheduledFor * 1000 == Fire.jitterMilliseconds(schedule: "jittered", scheduledFor: fire.scheduledFor, jitter: .seconds(600)))
        }
    }

    @Test func theTimelineFollowsTheCronEngineThroughDaylightSavingDays() {
        // The pure half of the DST guarantee; SchedulerBrokerTests drives the real scheduler.
        for (zone, day) in [("America/New_York", "2026-03-08T00:00:00-05:00"), ("America/New_York", "2026-11-01T00:00:00-04:00"),
                            ("Europe/Berlin", "2026-03-29T00:00:00+01:00"), ("Europe/Berlin", "2026-10-25T00:00:00+02:00")] {
            let definitions = schedules("""
                timezone: \(zone)
                schedules:
                  fixed: { cron: "30 1-3 * * *", task: warren.echo }
                  wildcard: { cron: "*/20 * * * *", task: warren.echo }
                """)
            var timeline = FireTimeline()
            let start = instant(day)
            timeline.apply(definitions, after: start * 1000 - 1)
            let fires = run(&timeline, until: (start + 86_400) * 1000)
            for definition in definitions {
                let expected = definition.timetable.fires(after: start - 1, count: 200).filter { $0 <= start + 86_400 }
                #expect(fires.filter { $0.schedule == definition.name }.map(\.scheduledFor) == expected, "\(zone) \(definition.name)")
            }
        }
    }
}

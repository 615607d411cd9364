import Foundation
import Testing
@testable import WarrenCore

/// The pure parts of operating schedules: the fold of the state stream, backfill planning, the
/// name check and the snapshot of loaded files.
@Suite struct ScheduleOperationsLogicTests {
    static func command(_ operation: ScheduleCommand.Operation, _ schedule: String = "s", until: Int64? = nil, reason: String? = nil,
                        at: Int64 = 1000, ids: [String] = []) -> ScheduleCommand {
        ScheduleCommand(operation, schedule: schedule, until: until, reason: reason, by: "cli:test", at: at, taskIDs: ids)
    }

    @Test func pauseHoldsFiresUntilResumedOrUntilItsEnd() {
        var state = ScheduleRuntimeState()
        #expect(state.apply(Self.command(.pause, reason: "incident")) == true)
        #expect(state.pause(of: "s", at: 5_000)?.reason == "incident")
        #expect(state.pause(of: "other", at: 5_000) == nil)
        #expect(state.apply(Self.command(.resume, at: 6_000)) == true)
        #expect(state.pause(of: "s", at: 7_000) == nil)
        #expect(state.apply(Self.command(.pause, until: 10_000, at: 8_000)) == true)
        #expect(state.pause(of: "s", at: 9_999) != nil)
        #expect(state.pause(of: "s", at: 10_000) == nil, "a pause with an end no longer holds at its end")
    }

    @Test func aResumedPauseStillHoldsTheFiresDueWhileItHeldAndNoneBeforeIt() {
        var state = ScheduleRuntimeState()
        state.apply(Self.command(.pause, reason: "r", at: 10_000))
        #expect(state.pause(of: "s", at: 9_999) == nil, "a fire due before the pause follows the catch-up policy")
        state.apply(Self.command(.resume, at: 20_000))
        // A scheduler that takes over after the resume must not catch up what the pause held.
        #expect(state.pause(of: "s", at: 15_000)?.reason == "r")
        #expect(state.pause(of: "s", at: 20_000) == nil)
        #expect(state.currentPause(of: "s", at: 15_000) == nil, "not paused now")
        for index in 0..<30 {
            state.apply(Self.command(.pause, at: 100_000 + Int64(index) * 10))
            state.apply(Self.command(.resume, at: 100_005 + Int64(index) * 10))
        }
        #expect(state.endedPauses["s"]?.count == ScheduleRuntimeState.keptPauses)
        #expect(state.applied == 62)
    }

    @Test func theSameCommandTwiceIsOneChange() {
        var state = ScheduleRuntimeState()
        #expect(state.apply(Self.command(.pause, reason: "r")) == true)
        #expect(!state.changes(Self.command(.pause, reason: "r", at: 2_000)))
        #expect(state.changes(Self.command(.pause, reason: "other", at: 2_000)), "a new reason is a change")
        #expect(state.changes(Self.command(.pause, until: 9_000, reason: "r", at: 2_000)), "a new end is a change")
        #expect(state.apply(Self.command(.resume, at: 3_000)) == true)
        #expect(!state.changes(Self.command(.resume, at: 4_000)))
        #expect(state.apply(Self.command(.resume, at: 4_000)) == false)
        // An expired pause is no pause: resuming it changes nothing, pausing again does.
        #expect(state.apply(Self.command(.pause, until: 5_000, at: 4_500)) == true)
        #expect(!state.changes(Self.command(.resume, at: 6_000)))
        #expect(state.changes(Self.command(.pause, until: 5_000, at: 6_000)))
    }

    @Test func commandsSurviveTheirWireFormAndOthersAreIgnored() throws {
        let command = Self.command(.backfill, "nightly", until: 7, reason: "r \"q\"", at: 12, ids: ["a", "b"])
        #expect(ScheduleCommand(body: command.body) == command)
        #expect(ScheduleCommand(body: Data(#"{"op":"explode","schedule":"s"}"#.utf8)) == nil)
        #expect(ScheduleCommand(body: Data("not json".utf8)) == nil)
        var state = ScheduleRuntimeState()
        state.apply(command)
        #expect(state.backfilled["nightly"] == ["a", "b"])
        #expect(state.lastCommand["nightly"] == command)
    }

    static let nightly = """
        schedules:
          nightly:
            cron: "30 2 * * *"
            timezone: Europe/Berlin
            task: report
        """

    static func schedule(_ text: String = nightly) throws -> ScheduleDefinition {
        try #require(ScheduleDirectory.combine([ScheduleDirectory.parse(text, file: "ops.yaml")]).schedules.first)
    }

    @Test func backfillListsEachInstantOfTheRangeAcrossDSTAndLeavesOutWhatIsDone() throws {
        let schedule = try Self.schedule()
        let from: Int64 = 1_774_569_600  // 2026-03-27T00:00:00Z
        let to: Int64 = 1_774_915_200  // 2026-03-31T00:00:00Z
        let now: Int64 = 1_800_000_000
        let all = try BackfillPlan.plan(schedule, from: from, to: to, now: now)
        #expect(all.publish.map { ScheduleDefinition.fireTaskID(schedule: "nightly", scheduledFor: $0) } == [
            "nightly@2026-03-27T01:30:00Z", "nightly@2026-03-28T01:30:00Z", "nightly@2026-03-29T01:00:00Z", "nightly@2026-03-30T00:30:00Z",
        ])
        // 28th succeeded; 29th backfilled before and failed (published again); 30th backfilled
        // before, no result yet (left out).
        let plan = try BackfillPlan.plan(schedule, from: from, to: to, now: now,
                                         stored: ["nightly@2026-03-28T01:30:00Z": .succeeded, "nightly@2026-03-29T01:00:00Z": .failed],
                                         backfilledIDs: ["nightly@2026-03-29T01:00:00Z", "nightly@2026-03-30T00:30:00Z"])
        #expect(plan.publish == [all.publish[0], all.publish[2]])
        #expect(plan.succeeded == [all.publish[1]])
        #expect(plan.backfilledBefore == [all.publish[3]])
        let rerun = try BackfillPlan.plan(schedule, from: from, to: to, now: now, stored: ["nightly@2026-03-28T01:30:00Z": .succeeded], rerun: true)
        #expect(rerun.publish == all.publish)
        #expect(try BackfillPlan.plan(schedule, from: all.publish[0], to: all.publish[0] + 1, now: now).publish == [all.publish[0]], "from is included")
        #expect(try BackfillPlan.plan(schedule, from: from, to: all.publish[0], now: now).publish.isEmpty, "to is excluded")
        #expect(throws: BackfillRangeError.future) { try BackfillPlan.plan(schedule, from: from, to: to, now: to - 10) }
    }

    @Test func backfillRefusesAReversedRangeAndMoreThanAThousandFires() throws {
        let every = try Self.schedule("schedules:\n  tick:\n    every: 1m\n    task: t\n")
        let now: Int64 = 1_800_000_000
        #expect(throws: BackfillRangeError.reversedRange) { try BackfillPlan.plan(every, from: 101, to: 100, now: now) }
        #expect(try BackfillPlan.plan(every, from: 120, to: 120, now: now).publish.isEmpty, "an empty range plans nothing")
        #expect(try BackfillPlan.plan(every, from: 0, to: 60_000, now: now).publish.count == 1000)
        #expect(throws: BackfillRangeError.tooMany(limit: 1000)) { try BackfillPlan.plan(every, from: 0, to: 60_001, now: now) }
    }

    @Test func anUnknownNameSuggestsTheClosestLoadedOne() throws {
        let set = ScheduleDirectory.combine([ScheduleDirectory.parse(Self.nightly, file: "ops.yaml")])
        #expect(throws: UnknownScheduleError(name: "nigthly", suggestion: "nightly")) { try set.lookup("nigthly") }
        #expect(throws: UnknownScheduleError(name: "zzz", suggestion: nil)) { try set.lookup("zzz") }
        #expect(UnknownScheduleError(name: "nigthly", suggestion: "nightly").description
            == "no schedule named \"nigthly\" is loaded by the scheduler (did you mean \"nightly\"?)")
    }

    @Test func loadedSchedulesCarryTheFilesAndParseAsTheSchedulerDid() throws {
        let loaded = LoadedSchedules(instance: "a", loadedAt: 5, files: ["s/ops.yaml": Self.nightly, "s/b.yaml": "schedules:\n  b:\n    every: 1m\n    task: t\n"])
        let read = try #require(LoadedSchedules(body: loaded.body))
        #expect(read == loaded)
        #expect(read.scheduleSet().schedules.map(\.name) == ["b", "nightly"])
        #expect(read.scheduleSet().schedules[1].location.file == "s/ops.yaml")
    }

    @Test func differencesNameEachChangedField() throws {
        let old = try Self.schedule()
        let new = try Self.schedule(Self.nightly.replacingOccurrences(of: "30 2", with: "45 2") + "\n    queue: reports\n")
        #expect(old.differences(to: new).map { "\($0.key): \($0.old) -> \($0.new)" } == ["when: 30 2 * * * -> 45 2 * * *", "queue: default -> reports"])
        #expect(old.differences(to: old).isEmpty)
    }
}

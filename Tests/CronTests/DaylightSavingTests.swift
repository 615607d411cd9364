import Testing
@testable import Cron

/// cronie's daylight-saving rules, case by case (SPEC §2).
@Suite struct DaylightSavingTests {
    // America/New_York, 2026: spring forward 8 March 02:00 EST → 03:00 EDT;
    // fall back 1 November 02:00 EDT → 01:00 EST.

    @Test func fixedTimeInTheGapFiresAtTheFirstInstantAfterIt() throws {
        #expect(try fires("30 2 * * *", in: "America/New_York", from: "2026-03-07T12:00:00Z") == [
            "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00",
        ])
        #expect(try fires("0 2 * * *", in: "America/Los_Angeles", from: "2026-03-07T12:00:00-08:00", count: 1) == [
            "2026-03-08T03:00:00-07:00",
        ])
        #expect(try fires("0 30 2 * * *", in: "America/New_York", from: "2026-03-08T00:00:00-05:00", count: 1) == [
            "2026-03-08T03:00:00-04:00",
        ])
    }

    @Test func severalSkippedTimesCollapseIntoOneFire() throws {
        #expect(try fires("0,15,30,45 2 * * *", in: "America/New_York", from: "2026-03-08T00:00:00-05:00") == [
            "2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-09T02:15:00-04:00",
        ])
        // The collapsed fire and a real 03:00 fire are one fire.
        #expect(try fires("0,30 2,3 * * *", in: "America/New_York", from: "2026-03-08T00:00:00-05:00") == [
            "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:00:00-04:00",
        ])
    }

    @Test func wildcardJobsSkipTheGap() throws {
        #expect(try fires("*/30 2 * * *", in: "America/New_York", from: "2026-03-07T12:00:00Z", count: 1) == [
            "2026-03-09T02:00:00-04:00",
        ])
        #expect(try fires("0 * * * *", in: "America/New_York", from: "2026-03-08T01:30:00-05:00", count: 2) == [
            "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00",
        ])
    }

    @Test func fixedTimeInTheRepeatedHourFiresInTheFirstPassOnly() throws {
        #expect(try fires("30 1 * * *", in: "America/New_York", from: "2026-11-01T00:00:00-04:00", count: 2) == [
            "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00",
        ])
        // Starting inside the second pass does not bring the repeated time back.
        #expect(try fires("30 1 * * *", in: "America/New_York", from: "2026-11-01T01:10:00-05:00", count: 1) == [
            "2026-11-02T01:30:00-05:00",
        ])
        // `0-23` is not a wildcard: a fixed-time job at every hour.
        #expect(try fires("0 0-23 * * *", in: "America/New_York", from: "2026-11-01T00:00:00-04:00", count: 2) == [
            "2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00",
        ])
    }

    @Test func wildcardJobsFireInBothPasses() throws {
        #expect(try fires("*/30 1 * * *", in: "America/New_York", from: "2026-11-01T00:00:00-04:00", count: 5) == [
            "2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00",
            "2026-11-02T01:00:00-05:00",
        ])
        #expect(try fires("@hourly", in: "America/New_York", from: "2026-11-01T00:00:00-04:00", count: 3) == [
            "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00",
        ])
    }

    @Test func lordHoweShiftsByHalfAnHour() throws {
        // Spring forward 4 October 2026 02:00 → 02:30 (+10:30 → +11:00).
        #expect(try fires("15 2 * * *", in: "Australia/Lord_Howe", from: "2026-10-03T12:00:00+10:30", count: 2) == [
            "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00",
        ])
        // Fall back 5 April 2026 02:00 → 01:30 (+11:00 → +10:30).
        #expect(try fires("45 1 * * *", in: "Australia/Lord_Howe", from: "2026-04-04T12:00:00+11:00", count: 2) == [
            "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30",
        ])
        #expect(try fires("*/30 1 * * *", in: "Australia/Lord_Howe", from: "2026-04-04T12:00:00+11:00", count: 4) == [
            "2026-04-05T01:00:00+11:00", "2026-04-05T01:30:00+11:00", "2026-04-05T01:30:00+10:30",
            "2026-04-06T01:00:00+10:30",
        ])
    }

    @Test func saoPauloChangesAtMidnight() throws {
        // 4 November 2018: 00:00 → 01:00, so midnight does not exist that day.
        #expect(try fires("0 0 * * *", in: "America/Sao_Paulo", from: "2018-11-03T12:00:00-03:00", count: 2) == [
            "2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00",
        ])
        // 17 February 2019: 00:00 → 23:00 the day before, so 23:xx on the 16th happens twice.
        #expect(try fires("30 23 * * *", in: "America/Sao_Paulo", from: "2019-02-16T12:00:00-02:00", count: 2) == [
            "2019-02-16T23:30:00-02:00", "2019-02-17T23:30:00-03:00",
        ])
        #expect(try fires("0 * * * *", in: "America/Sao_Paulo", from: "2019-02-16T22:30:00-02:00", count: 3) == [
            "2019-02-16T23:00:00-02:00", "2019-02-16T23:00:00-03:00", "2019-02-17T00:00:00-03:00",
        ])
    }

    @Test func europeanZones() throws {
        #expect(try fires("30 1 * * *", in: "Europe/London", from: "2026-03-28T12:00:00Z", count: 1) == [
            "2026-03-29T02:00:00+01:00",
        ])
        #expect(try fires("30 2 * * *", in: "Europe/Berlin", from: "2026-03-28T12:00:00Z", count: 1) == [
            "2026-03-29T03:00:00+02:00",
        ])
        #expect(try fires("30 2 * * *", in: "Europe/Berlin", from: "2026-10-24T12:00:00Z", count: 2) == [
            "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
        ])
    }

    @Test func zonesWithoutDaylightSavingTime() throws {
        #expect(try fires("30 9 * * 1-5", in: "Asia/Kolkata", from: "2026-11-20T10:00:00+05:30", count: 2) == [
            "2026-11-23T09:30:00+05:30", "2026-11-24T09:30:00+05:30",
        ])
        #expect(try fires("0 0 * * *", from: "2026-11-20T10:00:00Z", count: 1) == ["2026-11-21T00:00:00+00:00"])
    }

    @Test func everyIgnoresTheZone() throws {
        // Real elapsed time: 15 minutes apart across the New York spring-forward.
        #expect(try fires("@every 15m", in: "America/New_York", from: "2026-03-08T01:40:00-05:00", count: 2) == [
            "2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00",
        ])
    }

    @Test func farFutureUsesTheRepeatingRules() throws {
        // Beyond the tabulated 1800–2500, the 400-year cycle of rules continues.
        #expect(try fires("30 2 * * *", in: "America/New_York", from: "2600-03-08T12:00:00-05:00", count: 1) == [
            "2600-03-09T03:00:00-04:00",
        ])
    }
}

/// `dst_gap` and `dst_overlap`, and the `--explain` phrases, for fixed-time jobs.
@Suite struct DaylightSavingPolicyTests {
    // Europe/Berlin, 2026: spring forward 29 March 02:00 CET → 03:00 CEST;
    // fall back 25 October 03:00 CEST → 02:00 CET.
    static let skip = DaylightSavingPolicy(gap: .skip)
    static let last = DaylightSavingPolicy(overlap: .last)
    static let both = DaylightSavingPolicy(overlap: .both)

    @Test func gapShiftIsTheDefaultAndSaysWhichTimeMoved() throws {
        #expect(try explainedFires("30 2 * * *", in: "Europe/Berlin", from: "2026-03-28T12:00:00Z", count: 2) == [
            "2026-03-29T03:00:00+02:00 # 02:30 does not exist: shifted to the end of the gap",
            "2026-03-30T02:30:00+02:00",
        ])
        // The first selected time inside the gap is named, with seconds when the expression has them.
        #expect(try explainedFires("0,15 2 * * *", in: "Europe/Berlin", from: "2026-03-28T12:00:00Z", count: 1) == [
            "2026-03-29T03:00:00+02:00 # 02:00 does not exist: shifted to the end of the gap",
        ])
        #expect(try explainedFires("15 30 2 * * *", in: "Europe/Berlin", from: "2026-03-28T12:00:00Z", count: 1) == [
            "2026-03-29T03:00:00+02:00 # 02:30:15 does not exist: shifted to the end of the gap",
        ])
        #expect(try explainedFires("30 2 * * *", in: "America/New_York", from: "2026-03-07T12:00:00Z", count: 1) == [
            "2026-03-08T03:00:00-04:00 # 02:30 does not exist: shifted to the end of the gap",
        ])
    }

    @Test func gapSkipDropsTheSkippedTimes() throws {
        #expect(try fires("30 2 * * *", in: "Europe/Berlin", from: "2026-03-28T12:00:00Z", count: 2, policy: Self.skip) == [
            "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00",
        ])
        // A selected time after the gap still fires, on its own.
        #expect(try fires("0,30 2,3 * * *", in: "Europe/Berlin", from: "2026-03-29T00:00:00+01:00", policy: Self.skip) == [
            "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:00:00+02:00",
        ])
        #expect(try explainedFires("0 3 * * *", in: "Europe/Berlin", from: "2026-03-28T12:00:00Z", count: 1, policy: Self.skip) == [
            "2026-03-29T03:00:00+02:00",
        ])
        #expect(try fires("30 2 * * *", in: "America/New_York", from: "2026-03-07T12:00:00Z", count: 2, policy: Self.skip) == [
            "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00",
        ])
    }

    @Test func overlapFirstIsTheDefault() throws {
        #expect(try explainedFires("30 2 * * *", in: "Europe/Berlin", from: "2026-10-24T12:00:00Z", count: 2) == [
            "2026-10-25T02:30:00+02:00 # 02:30 happens twice: first pass (dst_overlap: first)",
            "2026-10-26T02:30:00+01:00",
        ])
        #expect(try explainedFires("30 1 * * *", in: "America/New_York", from: "2026-11-01T00:00:00-04:00", count: 2) == [
            "2026-11-01T01:30:00-04:00 # 01:30 happens twice: first pass (dst_overlap: first)",
            "2026-11-02T01:30:00-05:00",
        ])
    }

    @Test func overlapLastFiresInTheSecondPassOnly() throws {
        #expect(try explainedFires("30 2 * * *", in: "Europe/Berlin", from: "2026-10-24T12:00:00Z", count: 2, policy: Self.last) == [
            "2026-10-25T02:30:00+01:00 # 02:30 happens twice: second pass (dst_overlap: last)",
            "2026-10-26T02:30:00+01:00",
        ])
        // Every hour: 02:00 waits for the second pass; 01:00 and 03:00 happen once.
        #expect(try fires("0 0-23 * * *", in: "Europe/Berlin", from: "2026-10-25T00:30:00+02:00", policy: Self.last) == [
            "2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00",
        ])
        #expect(try explainedFires("30 1 * * *", in: "America/New_York", from: "2026-11-01T00:00:00-04:00", count: 2, policy: Self.last) == [
            "2026-11-01T01:30:00-05:00 # 01:30 happens twice: second pass (dst_overlap: last)",
            "2026-11-02T01:30:00-05:00",
        ])
    }

    @Test func overlapBothFiresInEachPass() throws {
        #expect(try explainedFires("30 2 * * *", in: "Europe/Berlin", from: "2026-10-24T12:00:00Z", policy: Self.both) == [
            "2026-10-25T02:30:00+02:00 # 02:30 happens twice: first pass (dst_overlap: both)",
            "2026-10-25T02:30:00+01:00 # 02:30 happens twice: second pass (dst_overlap: both)",
            "2026-10-26T02:30:00+01:00",
        ])
        // Starting inside the second pass, before its 02:30.
        #expect(try fires("30 2 * * *", in: "Europe/Berlin", from: "2026-10-25T02:10:00+01:00", count: 1, policy: Self.both) == [
            "2026-10-25T02:30:00+01:00",
        ])
        #expect(try fires("0 0-23 * * *", in: "Europe/Berlin", from: "2026-10-25T00:30:00+02:00", count: 4, policy: Self.both) == [
            "2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00",
        ])
        #expect(try fires("30 1 * * *", in: "America/New_York", from: "2026-11-01T00:00:00-04:00", policy: Self.both) == [
            "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-02T01:30:00-05:00",
        ])
    }

    @Test func lordHoweMovesHalfAnHour() throws {
        // Spring forward 4 October 2026 02:00 → 02:30 (+10:30 → +11:00): only 02:00–02:29 is skipped.
        #expect(try explainedFires("15 2 * * *", in: "Australia/Lord_Howe", from: "2026-10-03T12:00:00+10:30", count: 1) == [
            "2026-10-04T02:30:00+11:00 # 02:15 does not exist: shifted to the end of the gap",
        ])
        #expect(try fires("15 2 * * *", in: "Australia/Lord_Howe", from: "2026-10-03T12:00:00+10:30", count: 2, policy: Self.skip) == [
            "2026-10-05T02:15:00+11:00", "2026-10-06T02:15:00+11:00",
        ])
        #expect(try fires("45 2 * * *", in: "Australia/Lord_Howe", from: "2026-10-03T12:00:00+10:30", count: 1, policy: Self.skip) == [
            "2026-10-04T02:45:00+11:00",
        ])
        // Fall back 5 April 2026 02:00 → 01:30 (+11:00 → +10:30): only 01:30–01:59 repeats.
        #expect(try explainedFires("45 1 * * *", in: "Australia/Lord_Howe", from: "2026-04-04T12:00:00+11:00", count: 2, policy: Self.last) == [
            "2026-04-05T01:45:00+10:30 # 01:45 happens twice: second pass (dst_overlap: last)",
            "2026-04-06T01:45:00+10:30",
        ])
        #expect(try fires("45 1 * * *", in: "Australia/Lord_Howe", from: "2026-04-04T12:00:00+11:00", policy: Self.both) == [
            "2026-04-05T01:45:00+11:00", "2026-04-05T01:45:00+10:30", "2026-04-06T01:45:00+10:30",
        ])
        for policy in [DaylightSavingPolicy.default, Self.last, Self.both] {
            #expect(try explainedFires("15 1 * * *", in: "Australia/Lord_Howe", from: "2026-04-04T12:00:00+11:00", count: 2, policy: policy) == [
                "2026-04-05T01:15:00+11:00", "2026-04-06T01:15:00+10:30",
            ])
        }
    }

    @Test func saoPauloChangesAtMidnight() throws {
        // 4 November 2018: 00:00 → 01:00; 17 February 2019: 00:00 → 23:00 the day before.
        #expect(try explainedFires("0 0 * * *", in: "America/Sao_Paulo", from: "2018-11-03T12:00:00-03:00", count: 1) == [
            "2018-11-04T01:00:00-02:00 # 00:00 does not exist: shifted to the end of the gap",
        ])
        #expect(try fires("0 0 * * *", in: "America/Sao_Paulo", from: "2018-11-03T12:00:00-03:00", count: 1, policy: Self.skip) == [
            "2018-11-05T00:00:00-02:00",
        ])
        #expect(try explainedFires("30 23 * * *", in: "America/Sao_Paulo", from: "2019-02-16T12:00:00-02:00", count: 2, policy: Self.last) == [
            "2019-02-16T23:30:00-03:00 # 23:30 happens twice: second pass (dst_overlap: last)",
            "2019-02-17T23:30:00-03:00",
        ])
    }

    @Test(arguments: DaylightSavingPolicy.allCases)
    func wildcardJobsFollowRealTimeWhateverThePolicy(policy: DaylightSavingPolicy) throws {
        #expect(try fires("*/30 2 * * *", in: "Europe/Berlin", from: "2026-03-28T12:00:00Z", count: 1, policy: policy) == [
            "2026-03-30T02:00:00+02:00",
        ])
        #expect(try explainedFires("0 * * * *", in: "Europe/Berlin", from: "2026-10-25T01:30:00+02:00", policy: policy) == [
            "2026-10-25T02:00:00+02:00 # 02:00 happens twice: first pass (wildcard jobs fire in both)",
            "2026-10-25T02:00:00+01:00 # 02:00 happens twice: second pass (wildcard jobs fire in both)",
            "2026-10-25T03:00:00+01:00",
        ])
    }

    @Test func onlyDaylightSavingFiresAreExplained() throws {
        #expect(try explainedFires("30 2 * * *", in: "Europe/Berlin", from: "2026-06-01T00:00:00Z", count: 1) == [
            "2026-06-01T02:30:00+02:00",
        ])
        let berlin = try #require(ZoneRules.named("Europe/Berlin"))
        let every = Timetable(recurrence: try Recurrence(parsing: "@every 30m"), zone: berlin)
        #expect(every.explain(fire: try Timestamp.parse("2026-10-25T02:30:00+02:00", in: berlin)) == nil)
        // Instants that are not fires of the schedule.
        let schedule = CronSchedule(expression: try CronExpression(parsing: "30 2 * * *"), zone: berlin)
        #expect(schedule.explain(fire: try Timestamp.parse("2026-10-25T02:30:00+01:00", in: berlin)) == nil)
        #expect(schedule.explain(fire: try Timestamp.parse("2026-10-25T02:45:00+02:00", in: berlin)) == nil)
    }

    @Test func policyNamesAndDefault() {
        #expect(DaylightSavingPolicy.default == DaylightSavingPolicy(gap: .shift, overlap: .first))
        #expect(DaylightSavingPolicy.Gap.allCases.map(\.rawValue) == ["shift", "skip"])
        #expect(DaylightSavingPolicy.Overlap.allCases.map(\.rawValue) == ["first", "last", "both"])
        #expect(DaylightSavingPolicy.allCases.count == 6)
        #expect(Self.skip.description == "dst_gap: skip, dst_overlap: first")
    }
}

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

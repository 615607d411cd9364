import Testing
@testable import Cron

/// The cron dialect of SPEC §2: fields, names, steps, Quartz extensions, macros, Vixie's
/// day-of-month/day-of-week rule.
@Suite struct DialectTests {
    @Test func listsRangesAndSteps() throws {
        #expect(try fires("10-50/20 * * * *", from: "2026-01-01T00:00:00Z", count: 4) == [
            "2026-01-01T00:10:00+00:00", "2026-01-01T00:30:00+00:00", "2026-01-01T00:50:00+00:00", "2026-01-01T01:10:00+00:00",
        ])
        #expect(try fires("5/15 * * * *", from: "2026-01-01T00:00:00Z", count: 5) == [
            "2026-01-01T00:05:00+00:00", "2026-01-01T00:20:00+00:00", "2026-01-01T00:35:00+00:00",
            "2026-01-01T00:50:00+00:00", "2026-01-01T01:05:00+00:00",
        ])
        #expect(try fires("0 9 1,15 * *", from: "2026-01-01T12:00:00Z", count: 2) == [
            "2026-01-15T09:00:00+00:00", "2026-02-01T09:00:00+00:00",
        ])
    }

    @Test func namesAreCaseInsensitiveAndSundayIsZeroOrSeven() throws {
        let expected = try fires("0 9 * * 0", from: "2026-11-23T00:00:00Z", count: 2)
        #expect(expected == ["2026-11-29T09:00:00+00:00", "2026-12-06T09:00:00+00:00"])
        #expect(try fires("0 9 * * 7", from: "2026-11-23T00:00:00Z", count: 2) == expected)
        #expect(try fires("0 9 * * sun", from: "2026-11-23T00:00:00Z", count: 2) == expected)
        #expect(try fires("0 9 * * SUN", from: "2026-11-23T00:00:00Z", count: 2) == expected)
        #expect(try fires("0 9 * jan-Mar MON-FRI", from: "2026-03-31T12:00:00Z", count: 1) == ["2027-01-01T09:00:00+00:00"])
        #expect(try fires("0 0 * * 5-7", from: "2026-11-23T00:00:00Z", count: 3) == [
            "2026-11-27T00:00:00+00:00", "2026-11-28T00:00:00+00:00", "2026-11-29T00:00:00+00:00",
        ])
    }

    @Test func sundayCanEndARange() throws {
        let fridayToSunday = ["2026-11-27T00:00:00+00:00", "2026-11-28T00:00:00+00:00", "2026-11-29T00:00:00+00:00"]
        #expect(try fires("0 0 * * FRI-SUN", from: "2026-11-23T00:00:00Z") == fridayToSunday)
        #expect(try fires("0 0 * * 5-0", from: "2026-11-23T00:00:00Z") == fridayToSunday)
        #expect(try fires("0 0 * * MON-SUN", from: "2026-11-23T00:00:00Z", count: 1) == ["2026-11-24T00:00:00+00:00"])
    }

    @Test func questionMarkIsAStar() throws {
        #expect(try fires("0 12 ? * MON", from: "2026-11-23T12:00:00Z", count: 1) == ["2026-11-30T12:00:00+00:00"])
    }

    @Test func quartzLastDays() throws {
        #expect(try fires("0 0 L * *", from: "2024-02-01T00:00:00Z") == [
            "2024-02-29T00:00:00+00:00", "2024-03-31T00:00:00+00:00", "2024-04-30T00:00:00+00:00",
        ])
        #expect(try fires("0 0 L-3 * *", from: "2024-02-01T00:00:00Z") == [
            "2024-02-26T00:00:00+00:00", "2024-03-28T00:00:00+00:00", "2024-04-27T00:00:00+00:00",
        ])
        // 31 March 2024 is a Sunday, 31 August a Saturday.
        #expect(try fires("0 0 LW 3,8 *", from: "2024-01-01T00:00:00Z", count: 2) == [
            "2024-03-29T00:00:00+00:00", "2024-08-30T00:00:00+00:00",
        ])
    }

    @Test func quartzNearestWeekday() throws {
        // 15 June 2024 is a Saturday, 15 September a Sunday.
        #expect(try fires("0 0 15W 6,9 *", from: "2024-01-01T00:00:00Z", count: 2) == [
            "2024-06-14T00:00:00+00:00", "2024-09-16T00:00:00+00:00",
        ])
        // 1 June 2024 is a Saturday: the nearest weekday in June is Monday the 3rd.
        #expect(try fires("0 0 1W 6 *", from: "2024-01-01T00:00:00Z", count: 1) == ["2024-06-03T00:00:00+00:00"])
        // 31W never fires in a 30-day month: after March comes May.
        #expect(try fires("0 0 31W * *", from: "2024-03-01T00:00:00Z", count: 2) == [
            "2024-03-29T00:00:00+00:00", "2024-05-31T00:00:00+00:00",
        ])
    }

    @Test func quartzWeekdayOfTheMonth() throws {
        #expect(try fires("0 0 * * 5L", from: "2024-02-01T00:00:00Z", count: 2) == [
            "2024-02-23T00:00:00+00:00", "2024-03-29T00:00:00+00:00",
        ])
        #expect(try fires("0 0 * * 5#3", from: "2024-01-01T00:00:00Z", count: 2) == [
            "2024-01-19T00:00:00+00:00", "2024-02-16T00:00:00+00:00",
        ])
        #expect(try fires("0 0 * * FRI#3", from: "2024-01-01T00:00:00Z", count: 1) == ["2024-01-19T00:00:00+00:00"])
    }

    @Test func dayFieldsCombineWithOrWhenBothAreRestricted() throws {
        // The 1st of the month OR any Monday.
        #expect(try fires("0 0 1 * 1", from: "2024-01-01T00:00:00Z", count: 4) == [
            "2024-01-08T00:00:00+00:00", "2024-01-15T00:00:00+00:00", "2024-01-22T00:00:00+00:00", "2024-01-29T00:00:00+00:00",
        ])
        #expect(try fires("0 0 1 * 1", from: "2024-01-29T00:00:00Z", count: 2) == [
            "2024-02-01T00:00:00+00:00", "2024-02-05T00:00:00+00:00",
        ])
    }

    @Test func aStarPrefixedDayFieldMakesItAnd() throws {
        // Odd days of the month that are Mondays.
        #expect(try fires("0 0 */2 * 1", from: "2024-01-01T00:00:00Z", count: 3) == [
            "2024-01-15T00:00:00+00:00", "2024-01-29T00:00:00+00:00", "2024-02-05T00:00:00+00:00",
        ])
    }

    @Test func leapYears() throws {
        #expect(try fires("0 0 29 2 *", from: "2025-01-01T00:00:00Z", count: 1) == ["2028-02-29T00:00:00+00:00"])
        #expect(try fires("0 0 29 2 *", from: "2096-03-01T00:00:00Z", count: 1) == ["2104-02-29T00:00:00+00:00"])
        #expect(try fires("0 0 L 2 *", from: "2100-01-01T00:00:00Z", count: 1) == ["2100-02-28T00:00:00+00:00"])
    }

    @Test func macros() throws {
        #expect(try fires("@yearly", from: "2026-05-05T00:00:00Z", count: 1) == ["2027-01-01T00:00:00+00:00"])
        #expect(try fires("@annually", from: "2026-05-05T00:00:00Z", count: 1) == ["2027-01-01T00:00:00+00:00"])
        #expect(try fires("@monthly", from: "2026-05-05T00:00:00Z", count: 1) == ["2026-06-01T00:00:00+00:00"])
        #expect(try fires("@weekly", from: "2026-11-23T00:00:00Z", count: 1) == ["2026-11-29T00:00:00+00:00"])
        #expect(try fires("@daily", from: "2026-11-23T00:00:00Z", count: 1) == ["2026-11-24T00:00:00+00:00"])
        #expect(try fires("@midnight", from: "2026-11-23T00:00:00Z", count: 1) == ["2026-11-24T00:00:00+00:00"])
        #expect(try fires("@hourly", from: "2026-11-23T00:00:00Z", count: 1) == ["2026-11-23T01:00:00+00:00"])
        #expect(try fires("@every 90m", from: "2026-11-23T00:10:00Z", count: 2) == [
            "2026-11-23T01:30:00+00:00", "2026-11-23T03:00:00+00:00",
        ])
        #expect(try fires("@EVERY 1h30m", from: "2026-11-23T00:10:00Z", count: 1) == ["2026-11-23T01:30:00+00:00"])
    }

    @Test func secondsField() throws {
        #expect(try fires("*/20 * * * * *", from: "2026-11-23T00:00:00Z") == [
            "2026-11-23T00:00:20+00:00", "2026-11-23T00:00:40+00:00", "2026-11-23T00:01:00+00:00",
        ])
        // Strictly after: a fractional start inside the fire's second still moves on.
        #expect(try fires("* * * * * *", from: "2026-11-23T00:00:00.500Z", count: 1) == ["2026-11-23T00:00:01+00:00"])
        #expect(try fires("0 * * * *", from: "2026-11-23T00:00:00Z", count: 1) == ["2026-11-23T01:00:00+00:00"])
    }

    @Test func wildcardJobClassification() throws {
        let classify = { (text: String) throws -> Bool in try CronExpression(parsing: text).isWildcardJob }
        #expect(try classify("* 3 * * *"))
        #expect(try classify("*/5 3 * * *"))
        #expect(try classify("0 * * * *"))
        #expect(try classify("@hourly"))
        #expect(try classify("0 */2 * * *"))
        #expect(try !classify("0 0-23 * * *"))
        #expect(try !classify("30 2 * * *"))
        #expect(try !classify("@daily"))
        #expect(try !classify("* 30 2 * * *"))  // the seconds field does not count
    }

    @Test func theLastYearIsNineThousandNineHundredNinetyNine() throws {
        #expect(try fires("0 0 1 1 *", from: "9999-06-01T00:00:00Z", count: 1) == [])
        #expect(try fires("@every 1h", from: "9999-12-31T23:30:00Z", count: 1) == [])
    }
}

import Testing
@testable import Cron

@Suite struct DurationAndTimestampTests {
    @Test func durations() throws {
        #expect(try DurationSyntax.parse("500ms") == .milliseconds(500))
        #expect(try DurationSyntax.parse("30s") == .seconds(30))
        #expect(try DurationSyntax.parse("15m") == .seconds(900))
        #expect(try DurationSyntax.parse("2h") == .seconds(7200))
        #expect(try DurationSyntax.parse("7d") == .seconds(604_800))
        #expect(try DurationSyntax.parse("1h30m") == .seconds(5400))
        #expect(try DurationSyntax.parse("1d2h3m4s5ms") == .milliseconds(93_784_005))
        #expect(try DurationSyntax.parse("0s") == .zero)
        #expect(DurationSyntax.format(.seconds(5400)) == "1h30m")
        #expect(DurationSyntax.format(.milliseconds(1500)) == "1s500ms")
        #expect(DurationSyntax.format(.zero) == "0s")
    }

    @Test(arguments: [
        ("", "empty duration"), ("15", "missing unit after 15"), ("1.5h", "fractions are not accepted"),
        ("10y", "unknown unit \"y\""), ("30m1h", "largest to smallest"), ("1h1h", "largest to smallest"),
        ("h", "expected a number at position 1"), ("-5m", "expected a number"), ("36501d", "too long"),
        ("99999999999999999999s", "too long"),
    ])
    func badDurations(text: String, reason: String) {
        #expect {
            _ = try DurationSyntax.parse(text)
        } throws: { error in
            (error as? DurationSyntaxError)?.reason.contains(reason) == true
        }
    }

    @Test func timestampsWithOffsets() throws {
        #expect(try Timestamp.parse("1970-01-01T00:00:00Z", in: .utc) == 0)
        #expect(try Timestamp.parse("1970-01-01T01:00:00+01:00", in: .utc) == 0)
        #expect(try Timestamp.parse("1970-01-01T01:00+0100", in: .utc) == 0)
        #expect(try Timestamp.parse("1969-12-31T19:00:00-05", in: .utc) == 0)
        #expect(try Timestamp.parse("1970-01-01 00:00:01.999z", in: .utc) == 1)
        #expect(try Timestamp.parse("1970-01-02", in: .utc) == 86_400)
    }

    @Test func timestampsWithoutOffsetAreReadInTheZone() throws {
        let newYork = try #require(ZoneRules.named("America/New_York"))
        #expect(Timestamp.format(try Timestamp.parse("2026-07-01T12:00:00", in: newYork), in: newYork) == "2026-07-01T12:00:00-04:00")
        // Skipped by spring-forward: the first instant after the gap.
        #expect(Timestamp.format(try Timestamp.parse("2026-03-08T02:30", in: newYork), in: newYork) == "2026-03-08T03:00:00-04:00")
        // Repeated by fall-back: the first pass.
        #expect(Timestamp.format(try Timestamp.parse("2026-11-01T01:30", in: newYork), in: newYork) == "2026-11-01T01:30:00-04:00")
    }

    @Test func millisecondUTCTimestamps() {
        #expect(Timestamp.formatUTC(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.formatUTC(milliseconds: 1_795_000_000_125) == "2026-11-18T11:06:40.125Z")
        #expect(Timestamp.formatUTC(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func formattingOddOffsets() throws {
        let kolkata = try #require(ZoneRules.named("Asia/Kolkata"))
        #expect(Timestamp.format(0, in: kolkata) == "1970-01-01T05:30:00+05:30")
        #expect(Timestamp.format(-1, in: .utc) == "1969-12-31T23:59:59+00:00")
        // Years beyond four digits are written in full, not cut.
        #expect(Timestamp.format(253_402_300_800, in: .utc) == "10000-01-01T00:00:00+00:00")
    }

    @Test func utcSecondTimestamps() {
        #expect(Timestamp.formatUTC(seconds: 0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.formatUTC(seconds: 1_795_000_000) == "2026-11-18T11:06:40Z")
        #expect(Timestamp.formatUTC(seconds: -1) == "1969-12-31T23:59:59Z")
        #expect(Timestamp.formatUTC(seconds: 253_402_300_800) == "10000-01-01T00:00:00Z")
    }

    @Test(arguments: [
        ("2026-13-01", "month 13 is not 1-12"), ("2026-02-30", "day 30 does not exist in 2026-02"),
        ("2026-01-01T25:00", "does not exist"), ("2026-01-01T10", "\":\" after the hour"),
        ("yesterday", "4 digits for the year"), ("2026-01-01T10:00:00+1", "2 digits for the offset hours"),
        ("2026-01-01T10:00:00Zulu", "unexpected text after \"Z\""),
    ])
    func badTimestamps(text: String, reason: String) {
        #expect {
            _ = try Timestamp.parse(text, in: .utc)
        } throws: { error in
            (error as? TimestampError)?.reason.contains(reason) == true
        }
    }

    @Test func zoneNames() {
        #expect(ZoneRules.named("Europe/Berlin")?.identifier == "Europe/Berlin")
        #expect(ZoneRules.named("UTC") != nil)
        #expect(ZoneRules.named("Europe/Berlim") == nil)
        #expect(ZoneRules.named("GMT+1") == nil)
        #expect(ZoneRules.suggestion(for: "Europe/Berlim") == "Europe/Berlin")
        #expect(ZoneRules.suggestion(for: "europe/berlin") == "Europe/Berlin")
    }
}

import Testing
@testable import Cron

/// Parsing and searching never crash or run away, whatever the input.
@Suite struct RobustnessTests {
    static let alphabet = Array("0123456789012345*/,-LW#?@ \tabcdefjanFRIeveryhmsd\u{0}\u{7f}é漢")

    @Test func randomTextNeverCrashesAndFiresAreConsistent() throws {
        var random = SplitMix64(seed: 0xF022)
        let zones = ["UTC", "America/New_York", "Australia/Lord_Howe"].compactMap(ZoneRules.named)
        let starts: [Int64] = [.min, -62_135_596_801, 0, 1_700_000_000, 253_402_300_700, .max]
        var parsed = 0
        for _ in 0..<20_000 {
            let text = Self.mutatedExpression(&random)
            guard let recurrence = try? Recurrence(parsing: text) else { continue }
            parsed += 1
            let zone = zones.randomElement(using: &random)!
            let timetable = Timetable(recurrence: recurrence, zone: zone)
            for start in starts + [Int64.random(in: -5_000_000_000...20_000_000_000, using: &random)] {
                let fires = timetable.fires(after: start, count: 3)
                var previous = start
                for fire in fires {
                    #expect(fire > previous, "\(text): \(fire) after \(previous)")
                    #expect(fire <= CronSchedule.latestInstant)
                    previous = fire
                }
            }
        }
        #expect(parsed > 100, "the generator should produce some valid expressions")
    }

    /// A random expression with a few random characters replaced, inserted or deleted.
    static func mutatedExpression(_ random: inout SplitMix64) -> String {
        var characters = Array(Int.random(in: 0..<8, using: &random) == 0 ? "@every 15m" : RandomCron.expression(&random))
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let position = Int.random(in: 0...characters.count, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where position < characters.count: characters[position] = alphabet.randomElement(using: &random)!
            case 1: characters.insert(alphabet.randomElement(using: &random)!, at: position)
            default: if position < characters.count { characters.remove(at: position) }
            }
        }
        return String(characters)
    }

    @Test func boundsEndTheTimetable() throws {
        let expression = try Recurrence(parsing: "0 * * * *")
        let start = try Timestamp.parse("2026-01-01T00:00:00Z", in: .utc)
        let end = try Timestamp.parse("2026-01-01T03:00:00Z", in: .utc)
        let bounded = Timetable(recurrence: expression, start: start, end: end)
        let fires = bounded.fires(after: start - 10_000, count: 10).map { Timestamp.format($0, in: .utc) }
        #expect(fires == ["2026-01-01T00:00:00+00:00", "2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"])
        #expect(bounded.nextFire(after: end) == nil)
        // `every` is anchored on `start`.
        let every = Timetable(recurrence: try Recurrence(parsing: "@every 7m"), start: start + 60)
        #expect(every.fires(after: 0, count: 2) == [start + 60, start + 480])
    }
}

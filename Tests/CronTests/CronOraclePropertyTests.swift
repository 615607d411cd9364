import Foundation
import Testing
@testable import Cron

/// Random expressions and instants, in the zones where daylight-saving time is hardest and
/// under every daylight-saving policy, checked against `BruteForceOracle`.
@Suite struct CronOraclePropertyTests {
    static let zones = [
        "America/New_York", "Europe/London", "Europe/Berlin", "Australia/Lord_Howe",
        "America/Sao_Paulo", "Asia/Kolkata", "UTC",
    ]
    /// Cases per zone under the default policy; raise with WARREN_CRON_PROPERTY_CASES for a
    /// longer run.
    static let casesPerZone = Int(ProcessInfo.processInfo.environment["WARREN_CRON_PROPERTY_CASES"] ?? "") ?? 200
    /// Cases per zone under each other policy. Policies differ only around UTC-offset changes,
    /// so three cases in four are fixed-time jobs at the hours a change skips or repeats,
    /// starting within hours of it, and all look 8 days ahead instead of 40 (the empty 40-day
    /// searches are most of the oracle's time).
    static var casesPerOtherPolicy: Int { max(1, casesPerZone * 2 / 5) }
    static let seed = UInt64(ProcessInfo.processInfo.environment["WARREN_CRON_PROPERTY_SEED"] ?? "") ?? 0x5EED_2026

    @Test(arguments: zones, DaylightSavingPolicy.allCases)
    func nextFireAgreesWithBruteForce(zoneName: String, policy: DaylightSavingPolicy) throws {
        var seed = Self.seed ^ zoneName.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
        if policy != .default { seed ^= policy.description.utf8.reduce(UInt64(7)) { $0 &* 131 &+ UInt64($1) } }
        var random = SplitMix64(seed: seed)
        let cases = policy == .default ? Self.casesPerZone : Self.casesPerOtherPolicy
        let rules = try #require(ZoneRules.named(zoneName))
        let zone = try #require(TimeZone(identifier: zoneName == "UTC" ? "GMT" : zoneName))
        let instants = InstantSampler(zone: zone)
        var checked = 0
        var attempts = 0
        while checked < cases {
            attempts += 1
            #expect(attempts < cases * 20, "too many generated expressions were refused")
            let change = policy != .default && checked % 4 != 0 ? instants.change(&random, zoneName: zoneName) : nil
            let text = change.map { RandomCron.fixedTime(&random, hour: $0.hour) } ?? RandomCron.expression(&random)
            guard let expression = try? CronExpression(parsing: text) else { continue }
            let start = change?.start ?? instants.sample(&random, zoneName: zoneName)
            let oracle = BruteForceOracle(expression: expression, zone: zone, policy: policy)
            let limit: Int64 = expression.hasSeconds ? 3 * 86_400 : (policy == .default ? 40 : 8) * 86_400
            let expected = oracle.nextFire(after: start, within: limit)
            let actual = CronSchedule(expression: expression, zone: rules, policy: policy).nextFire(after: start)
            let context = "\(text) in \(zoneName) (\(policy)) after \(start)"
            if let expected {
                #expect(actual == expected, "\(context): expected \(expected), got \(String(describing: actual)) (seed \(Self.seed))")
            } else {
                #expect(actual.map { $0 > start + limit } ?? true, "\(context): oracle found nothing within the limit, engine says \(String(describing: actual))")
            }
            checked += 1
        }
    }
}

/// A small, seedable generator so failures can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Start instants: mostly within days of a UTC-offset change, the rest around leap days and
/// at random between 1990 and 2060.
struct InstantSampler {
    let zone: TimeZone
    let transitions: [Int64]

    init(zone: TimeZone) {
        self.zone = zone
        var transitions: [Int64] = []
        var cursor = Date(timeIntervalSince1970: 631_152_000)  // 1990
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < 2_840_140_800 {  // 2060
            transitions.append(Int64(next.timeIntervalSince1970))
            cursor = next
        }
        self.transitions = transitions
    }

    func pool(zoneName: String) -> [Int64] {
        if zoneName == "America/Sao_Paulo" {
            return transitions.filter { $0 >= 1_483_228_800 && $0 < 1_577_836_800 }  // 2017–2019
        }
        return transitions
    }

    func sample(_ random: inout SplitMix64, zoneName: String) -> Int64 {
        let kind = Int.random(in: 0..<10, using: &random)
        if kind < 6, !transitions.isEmpty {
            let transition = pool(zoneName: zoneName).randomElement(using: &random)!
            // Mostly within the day before the change, where the next fire is the one it moves.
            let window: ClosedRange<Int64> = kind < 4 ? -26 * 3600...2 * 3600 : -3 * 86_400...86_400
            return transition + Int64.random(in: window, using: &random)
        }
        if kind < 8 {
            // Around 28 February–1 March of a leap, a common or a century year.
            let year = [2000, 2023, 2024, 2028, 2100].randomElement(using: &random)!
            let leapDay = CivilTime.days(year: Int64(year), month: 2, day: 28) * 86_400
            return leapDay + Int64.random(in: -2 * 86_400...2 * 86_400, using: &random)
        }
        return Int64.random(in: 631_152_000...2_840_140_800, using: &random)
    }

    /// A start within hours of a UTC-offset change, with the wall-clock hour where the times it
    /// skips or repeats begin; nil in zones without changes.
    func change(_ random: inout SplitMix64, zoneName: String) -> (start: Int64, hour: Int)? {
        guard let transition = pool(zoneName: zoneName).randomElement(using: &random) else { return nil }
        let offsets = [transition - 1, transition].map { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double($0)))) }
        let hour = LocalDateTime(localSeconds: transition + offsets.min()!).hour
        return (transition + Int64.random(in: -2 * 3600...3600, using: &random), hour)
    }
}

/// Random expressions weighted towards the hours and days where daylight-saving and month-end
/// rules bite.
enum RandomCron {
    static func expression(_ random: inout SplitMix64) -> String {
        var fields: [String] = []
        if Int.random(in: 0..<5, using: &random) == 0 {
            fields.append(pick(["0", "*/15", "30", "*", "0,30", "10-20/5", "45"], &random))
        }
        fields.append(pick(["0", "30", "*", "*/5", "*/20", "0,30", "15-45/15", "59", "5/20", "0-10", "?"], &random))
        fields.append(pick(["0", "1", "2", "3", "1,2", "1-3", "*", "*/2", "23", "0,23", "2/3", "22-23", "12", "0-2"], &random))
        fields.append(pick(["*", "*", "*", "*", "*", "1", "15", "L", "L-2", "LW", "15W", "1W", "31W", "*/2", "?", "1-7", "28,29", "30"], &random))
        fields.append(pick(["*", "*", "*", "*", "3,10", "2", "3", "10,11", "*/3", "FEB-APR", "2,3,10,11"], &random))
        fields.append(pick(["*", "*", "*", "0", "1-5", "SUN", "6", "5L", "0#2", "MON#1", "7", "?", "*/2", "1,3,5"], &random))
        return fields.joined(separator: " ")
    }

    /// A fixed-time job (no `*` in the minute or hour field) selecting `hour` or hours next to it.
    static func fixedTime(_ random: inout SplitMix64, hour: Int) -> String {
        var fields: [String] = []
        if Int.random(in: 0..<6, using: &random) == 0 {
            fields.append(pick(["0", "30", "0,30", "45"], &random))
        }
        fields.append(pick(["0", "30", "15", "45", "0,30", "10-20/5", "59", "5/20", "0-10", "40-50"], &random))
        let (before, after) = ((hour + 23) % 24, (hour + 1) % 24)
        fields.append(pick(["\(hour)", "\(hour)", "\(before),\(hour)", "\(hour),\(after)", "\(hour)/12", "\(after)"], &random))
        fields.append(pick(["*", "*", "*", "*", "*", "1-7", "L", "*/2"], &random))
        fields.append(pick(["*", "*", "*", "*", "3,10"], &random))
        fields.append(pick(["*", "*", "*", "*", "0", "SUN", "7", "6"], &random))
        return fields.joined(separator: " ")
    }

    static func pick(_ options: [String], _ random: inout SplitMix64) -> String {
        options.randomElement(using: &random)!
    }
}

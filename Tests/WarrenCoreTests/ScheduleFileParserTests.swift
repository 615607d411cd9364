import Cron
import Testing
@testable import WarrenCore

/// Schedule files: what a good file gives, and the one-line error each bad input gets.
@Suite struct ScheduleFileParserTests {
    func parse(_ yaml: String) -> (schedules: [ScheduleDefinition], errors: [String]) {
        let result = ScheduleFileParser.parse(yaml: yaml, file: "s.yaml")
        return (result.schedules, result.errors.map(\.description))
    }

    @Test func aFullScheduleWithDefaults() throws {
        let (schedules, errors) = parse("""
            timezone: Europe/Berlin
            defaults:
              queue: reports
              expires: 2h
            schedules:
              nightly-report:
                cron: "30 2 * * *"
                task: reports.generate
                args: { format: pdf, copies: 2, ratio: 0.5, draft: false, notes: null, to: [a, b] }
                timezone: America/New_York
                catchup: all
                catchup_window: 1h30m
                overlap: replace
                jitter: 30s
                priority: 5
                paused: true
                start: 2026-01-01T00:00:00Z
                end: 2027-01-01
              sync:
                every: 15m
                task: sync.run
            """)
        #expect(errors == [])
        let report = try #require(schedules.first)
        #expect(report.name == "nightly-report")
        #expect(report.location == SourceLocation(file: "s.yaml", line: 6, column: 3))
        #expect(report.recurrence.description == "30 2 * * *")
        #expect(report.zone.identifier == "America/New_York")
        #expect(report.task == "reports.generate")
        #expect(report.args == .object([
            "format": .string("pdf"), "copies": .integer(2), "ratio": .number(0.5), "draft": .bool(false),
            "notes": .null, "to": .array([.string("a"), .string("b")]),
        ]))
        #expect(report.queue == "reports")
        #expect(report.catchup == .all)
        #expect(report.catchupWindow == .seconds(5400))
        #expect(report.overlap == .replace)
        #expect(report.jitter == .seconds(30))
        #expect(report.priority == 5)
        #expect(report.expires == .seconds(7200))
        #expect(report.paused)
        #expect(report.start == 1_767_225_600)
        // Without an offset, `end` is read in the schedule's zone (New York, UTC-5 in January).
        #expect(report.end == 1_798_779_600)

        let sync = try #require(schedules.last)
        #expect(sync.recurrence == .every(.seconds(900)))
        #expect(sync.zone.identifier == "Europe/Berlin")
        #expect(sync.queue == "reports")
        #expect(sync.catchup == .latest)
        #expect(sync.catchupWindow == .seconds(3600))
        #expect(sync.overlap == .allow)
        #expect(sync.jitter == .zero)
        #expect(sync.priority == nil)
        #expect(sync.paused == false)
        #expect(sync.args == .object([:]))
    }

    @Test func anEmptyFileDeclaresNothing() {
        #expect(parse("").schedules.isEmpty)
        #expect(parse("").errors.isEmpty)
        #expect(parse("# only a comment\n").errors.isEmpty)
        #expect(parse("schedules:\n").errors.isEmpty)
    }

    static let badFiles: [(yaml: String, error: String)] = [
        ("schedules:\n  a:\n    cronn: \"* * * * *\"\n    task: t\n",
         "s.yaml:2:3: schedule \"a\" needs cron or every (exactly one)\ns.yaml:3:5: unknown key \"cronn\" in schedule \"a\" (did you mean \"cron\"?)"),
        ("timezon: UTC\nschedules: {}\n",
         "s.yaml:1:1: unknown key \"timezon\" at the top level (did you mean \"timezone\"?)"),
        ("schedules:\n  a:\n    cron: \"* * * * *\"\n    task: t\n    colour: red\n",
         "s.yaml:5:5: unknown key \"colour\" in schedule \"a\"; known keys: cron, every, task, args, queue, timezone, catchup, catchup_window, overlap, jitter, priority, expires, paused, start, end, alert_after, alert_failures, dst_gap, dst_overlap"),
        ("schedules:\n  a:\n    cron: \"* * * * *\"\n    task: t\n    catchup-window: 2h\n",
         "s.yaml:5:5: unknown key \"catchup-window\" in schedule \"a\" (did you mean \"catchup_window\"?)"),
        ("schedules:\n  a:\n    cron: \"* * * * *\"\n    task: t\n    window: 2h\n",
         "s.yaml:5:5: unknown key \"window\" in schedule \"a\" (did you mean \"catchup_window\"?)"),
        ("schedules:\n  a:\n    task: t\n",
         "s.yaml:2:3: schedule \"a\" needs cron or every (exactly one)"),
        ("schedules:\n  a:\n    cron: \"* * * * *\"\n    every: 5m\n    task: t\n",
         "s.yaml:4:12: schedule \"a\" gives both cron and every; keep exactly one"),
        ("schedules:\n  a:\n    cron: \"* * * * *\"\n",
         "s.yaml:2:3: schedule \"a\" needs a task (a name from the workers' task catalog)"),
        ("schedules:\n  a:\n    cron: \"0 25 * * *\"\n    task: t\n",
         "s.yaml:3:14: cron \"0 25 * * *\": hour field: value 25 is out of range 0-23"),
        ("schedules:\n  a:\n    cron: 0 0 30 2 *\n    task: t\n",
         "s.yaml:3:15: cron \"0 0 30 2 *\": day-of-month field: no date ever matches the day-of-month, month and day-of-week fields together, so the expression never fires"),
        ("schedules:\n  a:\n    every: 5 minutes\n    task: t\n",
         "s.yaml:3:12: every: invalid duration \"5 minutes\": unknown unit \" minutes\"; use ms, s, m, h or d"),
        ("schedules:\n  a:\n    every: 90\n    task: t\n",
         "s.yaml:3:12: every: expected text such as 15m, got the number 90"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    jitter: soon\n",
         "s.yaml:5:13: jitter: invalid duration \"soon\": expected a number at position 1"),
        ("timezone: Europe/Berlim\nschedules: {}\n",
         "s.yaml:1:11: timezone: unknown time zone \"Europe/Berlim\" (did you mean \"Europe/Berlin\"?)"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    catchup: sometimes\n",
         "s.yaml:5:14: catchup: expected one of skip, latest, all, got \"sometimes\""),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    overlap: true\n",
         "s.yaml:5:14: overlap: expected text such as allow, got the boolean true"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    priority: 10\n",
         "s.yaml:5:15: priority: expected a whole number from 0 to 9, got the number 10"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    paused: maybe\n",
         "s.yaml:5:13: paused: expected true or false, got \"maybe\""),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    queue: amq.direct\n",
         "s.yaml:5:12: queue: queue names starting with \"amq.\" are reserved by the broker"),
        ("schedules:\n  a:\n    every: 1m\n    task: \"rm -rf /\"\n",
         "s.yaml:4:11: task \"rm -rf /\": use letters, digits, \".\", \"_\", \"-\" and \":\""),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    start: tomorrow\n",
         "s.yaml:5:12: start: invalid timestamp \"tomorrow\": expected 4 digits for the year (at character 1); expected e.g. 2026-03-08T03:00:00Z"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    start: 2026-02-01T00:00:00Z\n    end: 2026-01-01T00:00:00Z\n",
         "s.yaml:6:10: end must come after start"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    expires: 0s\n",
         "s.yaml:5:14: expires: must be longer than 0s"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n    args: { when: .nan }\n",
         "s.yaml:5:19: args.when: .nan is not a JSON number"),
        ("schedules:\n  a:\n    every: 1m\n    task: t\n  a:\n    every: 2m\n    task: t\n",
         "s.yaml:2:3: the mapping starting here repeats the key \"a\"; each key may appear once"),
        ("schedules:\n  a:\n    every: 1m\n    every: 2m\n    task: t\n",
         "s.yaml:3:5: the mapping starting here repeats the key \"every\"; each key may appear once"),
        ("schedules:\n  bad name:\n    every: 1m\n    task: t\n",
         "s.yaml:2:3: schedule name \"bad name\": use letters, digits, \".\", \"_\", \"-\" and \":\" (at most 200, starting with a letter or digit)"),
        ("defaults:\n  cron: \"* * * * *\"\nschedules: {}\n",
         "s.yaml:2:3: cron cannot be set in defaults; give it in each schedule"),
        ("schedules:\n  a:\n    cron: */5 * * * *\n    task: t\n",
         "s.yaml:3:12: not valid YAML: did not find expected alphabetic or numeric character (a value starting with * must be quoted, e.g. cron: \"*/5 * * * *\")"),
        ("schedules:\n  a: [1, 2\n",
         "s.yaml:3:1: not valid YAML: did not find expected ',' or ']'"),
        ("- a\n- b\n", "s.yaml:1:1: expected a mapping with the keys timezone, defaults, schedules and workflows"),
        ("timezone: UTC\n", "s.yaml:1:1: missing \"schedules:\"; a schedule file declares its schedules under it (and its workflows under \"workflows:\")"),
        ("schedules: [a, b]\n", "s.yaml:1:12: schedules: expected a mapping from schedule names to schedules"),
        ("schedules:\n  a: 5\n", "s.yaml:2:6: schedule \"a\": expected a mapping with cron or every, and task"),
        ("schedules:\n  a:\n    every: 1h\n    task: t\n    dst_gap: skip\n",
         "s.yaml:5:14: dst_gap: applies to cron schedules only; every follows real time"),
        ("schedules:\n  a:\n    cron: \"30 2 * * *\"\n    task: t\n    dst_overlap: second\n",
         "s.yaml:5:18: dst_overlap: expected one of first, last, both, got \"second\""),
        ("schedules:\n  a:\n    cron: \"30 2 * * *\"\n    task: t\n    alert_after: 0s\n    alert_failures: 0\n",
         "s.yaml:5:18: alert_after: must be longer than 0s\ns.yaml:6:21: alert_failures: expected a whole number from 1 to 1000, got the number 0"),
    ]

    @Test func daylightSavingAndAlertSettings() throws {
        let result = parse("defaults:\n  dst_gap: skip\nschedules:\n  a:\n    cron: \"30 2 * * *\"\n    task: t\n    dst_overlap: both\n    alert_after: 15m\n    alert_failures: 3\n  b:\n    every: 1h\n    task: t\n")
        #expect(result.errors.isEmpty, "\(result.errors)")
        let a = try #require(result.schedules.first { $0.name == "a" })
        #expect(a.dstPolicy == DaylightSavingPolicy(gap: .skip, overlap: .both))
        #expect(a.alertAfter == .seconds(900))
        #expect(a.alertFailures == 3)
        #expect(a.isWatched)
        let b = try #require(result.schedules.first { $0.name == "b" })
        #expect(b.dstPolicy.overlap == .first, "an every schedule takes dst_gap from defaults without complaint; it follows real time")
        #expect(!b.isWatched)
    }

    @Test(arguments: badFiles.indices)
    func badInput(index: Int) {
        let (yaml, error) = Self.badFiles[index]
        let result = parse(yaml)
        #expect(result.errors == error.split(separator: "\n").map(String.init))
        #expect(result.schedules.isEmpty)
    }

    @Test func everyErrorInAFileIsReported() {
        let result = parse("""
            timezone: Mars/Olympus
            schedules:
              a:
                cron: "61 * * * *"
                task: t
              b:
                every: 5x
              c:
                every: 1m
                task: t
            """)
        #expect(result.errors.count == 4)
        #expect(result.errors.map { $0.prefix(10) } == ["s.yaml:1:1", "s.yaml:4:1", "s.yaml:6:3", "s.yaml:7:1"])
        // The parser still hands back the good schedule; ScheduleDirectory rejects the file whole.
        #expect(result.schedules.map(\.name) == ["c"])
    }
}

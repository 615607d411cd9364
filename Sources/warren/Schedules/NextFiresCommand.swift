import ArgumentParser
import Cron
import Foundation
import WarrenCore

/// `warren schedules next`: the next fire times of an expression or of a declared schedule.
struct NextFiresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times strictly after --from, one per line, with the zone's UTC offset.",
        discussion: """
            Either --cron EXPR [--tz ZONE] [--dst-gap shift|skip] [--dst-overlap first|last|both] \
            or the NAME of a declared schedule (which has its own). A schedule that will not fire \
            again (its end has passed) prints "never". --explain adds, after a time that differs \
            from the plain wall-clock reading, why (a daylight-saving gap or repeated hour).
            """
    )

    @Argument(help: "A schedule declared under --schedules.")
    var name: String?

    @Option(help: "A cron expression, macro or \"@every DURATION\".")
    var cron: String?

    @Option(help: "IANA time zone for --cron (default UTC).")
    var tz: String?

    @Option(name: .customLong("dst-gap"), help: "For --cron: a time a spring-forward skips: shift (run at the end of the gap) or skip.")
    var dstGap: String?

    @Option(name: .customLong("dst-overlap"), help: "For --cron: a time a fall-back repeats: first, last or both passes.")
    var dstOverlap: String?

    @Flag(help: "After each time that differs from the plain wall-clock reading, say why.")
    var explain = false

    @Option(help: "Start after this ISO-8601 instant (default now); without an offset it is read in the zone.")
    var from: String?

    @Option(help: "How many fire times to print (1-10000).")
    var count = 1

    @Option(name: .customLong("schedules"), help: "The schedules directory, for NAME.")
    var directory = "schedules"

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count: expected 1 to 10000, got \(count)") }
        switch (name, cron) {
        case (nil, nil): throw ValidationError("give --cron EXPR or the NAME of a schedule")
        case (_?, _?): throw ValidationError("give either --cron or NAME, not both")
        default: break
        }
        if name != nil, tz != nil { throw ValidationError("--tz applies to --cron only; a schedule has its own time zone") }
        if name != nil, dstGap != nil || dstOverlap != nil {
            throw ValidationError("--dst-gap and --dst-overlap apply to --cron only; a schedule has its own (dst_gap, dst_overlap)")
        }
        _ = try policy()
    }

    /// The daylight-saving policy given for --cron.
    private func policy() throws -> DaylightSavingPolicy {
        func choice<Choice: RawRepresentable & CaseIterable>(_ text: String?, _ option: String, _: Choice.Type) throws -> Choice?
        where Choice.RawValue == String {
            guard let text else { return nil }
            guard let value = Choice(rawValue: text) else {
                throw ValidationError("\(option) \(text): expected one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        return DaylightSavingPolicy(gap: try choice(dstGap, "--dst-gap", DaylightSavingPolicy.Gap.self) ?? .shift,
                                    overlap: try choice(dstOverlap, "--dst-overlap", DaylightSavingPolicy.Overlap.self) ?? .first)
    }

    func run() throws {
        let timetable = try cron.map(timetable(cron:)) ?? declaredTimetable()
        let after = try ScheduleInputs.instant(from: from, in: timetable.zone)
        let fires = timetable.fires(after: after, count: count)
        if fires.isEmpty {
            print("never")
            return
        }
        print(fires.map { fire in
            let time = Timestamp.format(fire, in: timetable.zone)
            guard explain, let why = timetable.explain(fire: fire) else { return time }
            return "\(time)  # \(why)"
        }.joined(separator: "\n"))
    }

    private func timetable(cron: String) throws -> Timetable {
        let zone = try zoneRules(tz ?? "UTC")
        do {
            return Timetable(recurrence: try Recurrence(parsing: cron), zone: zone, policy: try policy())
        } catch {
            throw ValidationError("--cron \"\(cron)\": \(error)")
        }
    }

    private func zoneRules(_ name: String) throws -> ZoneRules {
        if let rules = ZoneRules.named(name) { return rules }
        let hint = ZoneRules.suggestion(for: name).map { " (did you mean \"\($0)\"?)" } ?? "; use an IANA name such as Europe/Berlin or UTC"
        throw ValidationError("--tz: unknown time zone \"\(name)\"\(hint)")
    }

    private func declaredTimetable() throws -> Timetable {
        let name = name ?? ""
        let set = try ScheduleInputs.load(directory)
        if let schedule = set.schedule(named: name) { return schedule.timetable }
        let hint = Suggestion.closest(to: name, among: set.schedules.map(\.name)).map { " (did you mean \"\($0)\"?)" } ?? ""
        let rejected = set.rejectedFiles.isEmpty ? "" : "; \(set.rejectedFiles.count) files failed validation, see warren schedules validate"
        throw ValidationError("no schedule named \"\(name)\" in \(directory)\(hint)\(rejected)")
    }
}

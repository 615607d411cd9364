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
            Either --cron EXPR [--tz ZONE] or the NAME of a declared schedule. A schedule that \
            will not fire again (its end has passed) prints "never".
            """
    )

    @Argument(help: "A schedule declared under --schedules.")
    var name: String?

    @Option(help: "A cron expression, macro or \"@every DURATION\".")
    var cron: String?

    @Option(help: "IANA time zone for --cron (default UTC).")
    var tz: String?

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
    }

    func run() throws {
        let timetable = try cron.map(timetable(cron:)) ?? declaredTimetable()
        let after = try ScheduleInputs.instant(from: from, in: timetable.zone)
        let fires = timetable.fires(after: after, count: count)
        if fires.isEmpty {
            print("never")
            return
        }
        print(fires.map { Timestamp.format($0, in: timetable.zone) }.joined(separator: "\n"))
    }

    private func timetable(cron: String) throws -> Timetable {
        let zone = try zoneRules(tz ?? "UTC")
        do {
            return Timetable(recurrence: try Recurrence(parsing: cron), zone: zone)
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

import ArgumentParser
import Cron
import Foundation
import WarrenCore

/// `warren schedules list`: each schedule with its expression, zone and next fire.
struct ListSchedulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the schedules with their expression, time zone and next fire.",
        discussion: "Schedules of files that fail validation are left out; their errors go to stderr and the exit code is 1."
    )

    @Option(name: .customLong("schedules"), help: "The schedules directory.")
    var directory = "schedules"

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    @Option(help: "Compute next fires after this ISO-8601 instant instead of now.")
    var from: String?

    /// One row of the listing.
    struct Row: Encodable {
        let name: String
        let file: String
        let expression: String
        let zone: String
        let nextFire: String?
        let paused: Bool
        let task: String
        let queue: String

        enum CodingKeys: String, CodingKey {
            case name, file, expression, zone, paused, task, queue
            case nextFire = "next_fire"
        }
    }

    func run() throws {
        let set = try ScheduleInputs.load(directory)
        let rows = try set.schedules.map { schedule in
            let after = try ScheduleInputs.instant(from: from, in: schedule.zone)
            return Row(
                name: schedule.name, file: schedule.location.file, expression: schedule.recurrence.description,
                zone: schedule.zone.identifier,
                nextFire: schedule.timetable.nextFire(after: after).map { Timestamp.format($0, in: schedule.zone) },
                paused: schedule.paused, task: schedule.task, queue: schedule.queue
            )
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            printTable(rows)
        }
        if !set.errors.isEmpty {
            ScheduleInputs.report(set.errors)
            throw ExitCode(1)
        }
    }

    private func printTable(_ rows: [Row]) {
        let header = ["NAME", "EXPRESSION", "ZONE", "NEXT FIRE", "PAUSED"]
        let cells = rows.map { [$0.name, $0.expression, $0.zone, $0.nextFire ?? "never", $0.paused ? "yes" : "no"] }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        for line in [header] + cells {
            let padded = line.enumerated().map { column, cell in
                column == line.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(padded.joined(separator: "  "))
        }
    }
}

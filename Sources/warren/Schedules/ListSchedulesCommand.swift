import ArgumentParser
import Cron
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging
import WarrenStore

/// `warren schedules list`: each schedule with its expression, zone and next fire.
struct ListSchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the schedules with their expression, time zone, next fire and runtime state.",
        discussion: """
            Schedules of files that fail validation are left out; their errors go to stderr and the \
            exit code is 1. PAUSED is "yes" for a schedule paused in its file, and names the pause \
            for one paused with warren schedules pause (read from the broker; with --offline, or when \
            the broker cannot be reached, only the files are read).
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Flag(help: "Do not read runtime state from the broker.")
    var offline = false

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .customLong("schedules"), help: "The schedules directory.")
    var directory = "schedules"

    @Option(help: "The workers' task catalog: a schedule that names no queue shows its task's queue: (env WARREN_TASKS).")
    var tasks: String?

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
        let args: JSONArgs
        /// The runtime pause (`warren schedules pause`), if one holds now; absent when not read.
        let runtimePause: RuntimePause??
        /// The newest stored result of the schedule; absent when no store was read.
        let lastFire: LastFire??

        enum CodingKeys: String, CodingKey {
            case name, file, expression, zone, paused, task, queue, args
            case nextFire = "next_fire"
            case runtimePause = "runtime_pause"
            case lastFire = "last_fire"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(file, forKey: .file)
            try container.encode(expression, forKey: .expression)
            try container.encode(zone, forKey: .zone)
            try container.encode(nextFire, forKey: .nextFire)
            try container.encode(paused, forKey: .paused)
            try container.encode(task, forKey: .task)
            try container.encode(queue, forKey: .queue)
            try container.encode(args, forKey: .args)
            if let runtimePause { try container.encode(runtimePause, forKey: .runtimePause) }
            if let lastFire { try container.encode(lastFire, forKey: .lastFire) }
        }
    }

    /// A schedule's newest stored result, as JSON.
    struct LastFire: Encodable {
        let id: String
        let scheduledFor: String?
        let status: String

        enum CodingKeys: String, CodingKey {
            case id, status
            case scheduledFor = "scheduled_for"
        }
    }

    /// A runtime pause as JSON.
    struct RuntimePause: Encodable {
        let until: String?
        let reason: String?
        let by: String
        let since: String
    }

    /// A schedule's args as their own JSON.
    struct JSONArgs: Encodable {
        let value: JSONValue

        func encode(to encoder: any Encoder) throws {
            switch value {
            case .array(let items):
                var container = encoder.unkeyedContainer()
                for item in items { try container.encode(JSONArgs(value: item)) }
            case .object(let members):
                var container = encoder.container(keyedBy: Key.self)
                for (key, member) in members { try container.encode(JSONArgs(value: member), forKey: Key(stringValue: key)) }
            default:
                var container = encoder.singleValueContainer()
                switch value {
                case .bool(let flag): try container.encode(flag)
                case .number(let number): try container.encode(number)
                case .integer(let number): try container.encode(number)
                case .string(let text): try container.encode(text)
                default: try container.encodeNil()
                }
            }
        }

        struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    func run() async throws {
        let set = try ScheduleInputs.load(directory, tasks: tasks)
        let state = offline ? nil : await runtimeState()
        let lastFires = try await lastFires(of: set.schedules.map(\.name))
        let now = Date().millisecondsSince1970
        let rows = try set.schedules.map { schedule in
            let after = try ScheduleInputs.instant(from: from, in: schedule.zone)
            let pause = state.map { state in
                state.currentPause(of: schedule.name, at: now).map {
                    RuntimePause(until: $0.until.map(Timestamp.formatUTC(milliseconds:)), reason: $0.reason, by: $0.by,
                                 since: Timestamp.formatUTC(milliseconds: $0.since))
                }
            }
            return Row(
                name: schedule.name, file: schedule.location.file, expression: schedule.recurrence.description,
                zone: schedule.zone.identifier,
                nextFire: schedule.timetable.nextFire(after: after).map { Timestamp.format($0, in: schedule.zone) },
                paused: schedule.paused, task: schedule.task, queue: schedule.queue, args: JSONArgs(value: schedule.args),
                runtimePause: pause, lastFire: lastFires.map { $0[schedule.name] }
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

    private static func pausedCell(_ row: Row) -> String {
        if row.paused { return "yes" }
        guard case let pause?? = row.runtimePause else { return "no" }
        var text = "yes, " + (pause.until.map { "until \($0)" } ?? "until resumed")
        if let reason = pause.reason { text += ": \(reason)" }
        return text + " (by \(pause.by))"
    }

    /// Every schedule's runtime state, or nil (with a note on stderr) when the broker cannot be read.
    private func runtimeState() async -> ScheduleRuntimeState? {
        do {
            let connection = try await Connection.open(try broker.configuration(connectionName: "warren-schedules-list"))
            defer { Task { await connection.close() } }
            return try await Inspector(connection: connection).scheduleState()
        } catch {
            FileHandle.standardError.write(Data("warren schedules list: runtime state not read (\(error)); showing the files only\n".utf8))
            return nil
        }
    }

    /// Each schedule's newest stored result, when a store is given (`--store` or
    /// `WARREN_STORE`); nil when none is.
    private func lastFires(of names: [String]) async throws -> [String: LastFire]? {
        guard storeOptions.store != nil || ProcessInfo.processInfo.environment["WARREN_STORE"] != nil else { return nil }
        let store = try await storeOptions.openForReading(command: "schedules list")
        var fires: [String: LastFire] = [:]
        do {
            for name in names {
                if let last = try await store.list(ResultQuery(schedule: name, limit: 1)).first {
                    fires[name] = LastFire(id: last.id, scheduledFor: last.scheduledFor, status: last.status.rawValue)
                }
            }
        } catch {
            await store.close()
            FileHandle.standardError.write(Data("warren schedules list: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await store.close()
        return fires
    }

    private func printTable(_ rows: [Row]) {
        let withLast = rows.contains { $0.lastFire != nil }
        let header = ["NAME", "EXPRESSION", "ZONE", "NEXT FIRE"] + (withLast ? ["LAST FIRE", "STATUS"] : []) + ["PAUSED"]
        let cells = rows.map { row -> [String] in
            var last: [String] = []
            if withLast {
                let fire = row.lastFire ?? nil
                last = [fire.map { $0.scheduledFor ?? $0.id } ?? "none", fire?.status ?? "-"]
            }
            return [row.name, row.expression, row.zone, row.nextFire ?? "never"] + last + [Self.pausedCell(row)]
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        for line in [header] + cells {
            let padded = line.enumerated().map { column, cell in
                column == line.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(padded.joined(separator: "  "))
        }
    }
}

import ArgumentParser
import Cron
import Foundation
import WarrenCore
import WarrenStore

/// `warren schedules history NAME`: one row per fire instant from the result store, the fires
/// that did not run included (SPEC §7).
struct ScheduleHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show every fire of a schedule: when it was due, what triggered it, how it ended.",
        discussion: """
            One row per fire instant from the result store, oldest first: scheduled for, trigger \
            (schedule, catchup, manual, backfill), status (skipped and missed fires included, with \
            the reason), lateness (started - scheduled), duration and attempts.
            """
    )

    @Argument(help: "The schedule's name.")
    var name: String

    @Option(help: "Fires since then: a duration (7d = a week ago) or an ISO-8601 time.")
    var since = "7d"

    @Option(help: "At most this many fires, the newest.")
    var limit = 10_000

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .customLong("schedules"), help: "The schedules directory, to tell an unknown name from a quiet schedule.")
    var directory = "schedules"

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    func run() async throws {
        guard limit > 0 else { throw ValidationError("--limit: expected a positive number, got \(limit)") }
        let sinceDate = try SinceArgument.parse(since) ?? Date()
        let store = try await storeOptions.openForReading(command: "schedules history")
        let entries: [FireHistoryEntry]
        do {
            entries = try await store.history(of: name, since: sinceDate, limit: limit)
        } catch {
            await store.close()
            FileHandle.standardError.write(Data("warren schedules history: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await store.close()
        if entries.isEmpty, FileManager.default.fileExists(atPath: directory),
           let set = try? ScheduleDirectory.load(directory), set.errors.isEmpty {
            do {
                _ = try set.lookup(name)
            } catch {
                throw ValidationError("no schedule named \"\(name)\" in \(directory) and none in the store"
                                      + (error.suggestion.map { " (did you mean \"\($0)\"?)" } ?? ""))
            }
        }
        if json {
            print(JSONText.write(.array(entries.map(\.json))))
            return
        }
        if entries.isEmpty {
            print("no fires of \(name) stored since \(TaskResult.timestamp(sinceDate))")
            return
        }
        let table = TerminalTable([
            .init(title: "SCHEDULED FOR (UTC)", width: 19), .init(title: "TRIGGER", width: 8), .init(title: "STATUS", width: 9),
            .init(title: "LATE", width: 8, alignRight: true), .init(title: "TOOK", width: 8, alignRight: true),
            .init(title: "TRY", width: 3, alignRight: true), .init(title: "REASON", width: nil),
        ])
        print(table.render(entries.map { entry in
            [ResultFormatting.time(entry.scheduledFor), entry.trigger, entry.status.rawValue,
             ResultFormatting.duration(milliseconds: entry.latenessMs), ResultFormatting.duration(milliseconds: entry.durationMs),
             "\(entry.attempts)", entry.reason ?? ""]
        }))
    }
}

/// `warren schedules health`: the dead-man's switch of every schedule that sets `alert_after`
/// or `alert_failures`, read from the result store; exit 1 when one is in trouble.
struct ScheduleHealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check the schedules that set alert_after or alert_failures; exit 1 naming each one in trouble.",
        discussion: """
            A schedule is overdue when a fire has had no final result for alert_after after its \
            instant (and jitter), and failing after alert_failures final failures in a row. Exit \
            0 when every watched schedule is healthy, 1 when any is in trouble (each named on \
            stderr), 2 on bad input. The same evaluation as the backend's gauges.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .customLong("schedules"), help: "The schedules directory.")
    var directory = "schedules"

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    func run() async throws {
        let set = try ScheduleInputs.load(directory)
        if !set.errors.isEmpty {
            ScheduleInputs.report(set.errors)
            throw ExitCode(2)
        }
        let watched = set.schedules.filter(\.isWatched)
        let store = try await storeOptions.openForReading(command: "schedules health")
        var healths: [ScheduleHealth] = []
        let now = Date()
        do {
            for schedule in watched {
                healths.append(try await store.health(of: schedule, now: now, fileWritten: ScheduleDirectory.lastWritten(schedule.location.file)))
            }
        } catch {
            await store.close()
            FileHandle.standardError.write(Data("warren schedules health: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await store.close()
        if json {
            print(JSONText.write(.array(healths.map(\.json))))
        } else if watched.isEmpty {
            print("no schedule in \(directory) sets alert_after or alert_failures")
        } else {
            let table = TerminalTable([
                .init(title: "SCHEDULE", width: nil), .init(title: "STATE", width: 7), .init(title: "FAILS", width: 5, alignRight: true),
                .init(title: "LAST SUCCESS (UTC)", width: 19), .init(title: "PROBLEM", width: nil),
            ])
            print(table.render(healths.map { health in
                [health.schedule, health.inTrouble ? "TROUBLE" : "ok", "\(health.consecutiveFailures)",
                 health.lastSuccess.map { ResultFormatting.time(Timestamp.formatUTC(milliseconds: $0)) } ?? "-",
                 health.problems.joined(separator: "; ")]
            }))
        }
        let trouble = healths.filter(\.inTrouble)
        for health in trouble {
            FileHandle.standardError.write(Data("warren schedules health: \(health.schedule): \(health.problems.joined(separator: "; "))\n".utf8))
        }
        if !trouble.isEmpty { throw ExitCode(1) }
    }
}

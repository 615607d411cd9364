import ArgumentParser
import Cron
import Foundation
import WarrenCore

/// Loading schedule directories and reading `--from` for the `schedules` commands.
enum ScheduleInputs {
    /// Loads `directory`; an unreadable directory is an input error (exit 2). Schedules that
    /// name no queue get their task's `queue:` from the catalog `tasks` (default
    /// `WARREN_TASKS`), as the scheduler given it fires them.
    static func load(_ directory: String, tasks: String? = nil) throws -> ScheduleSet {
        let catalog = try ArgumentValues.catalog(tasks ?? ProcessInfo.processInfo.environment["WARREN_TASKS"])
        do {
            var set = try ScheduleDirectory.load(directory)
            set.schedules = set.schedules.map { $0.resolvingQueue(taskQueues: catalog.taskQueues) }
            return set
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `--from` as seconds since the epoch (now when absent), read in `zone` when it has no offset.
    static func instant(from text: String?, in zone: ZoneRules) throws -> Int64 {
        guard let text else { return Int64(Date().timeIntervalSince1970.rounded(.down)) }
        do {
            return try Timestamp.parse(text, in: zone)
        } catch {
            throw ValidationError("--from: \(error)")
        }
    }

    /// Prints each error on stderr, one per line.
    static func report(_ errors: [InputFileError]) {
        for error in errors {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
        }
    }
}

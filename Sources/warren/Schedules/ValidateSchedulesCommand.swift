import ArgumentParser
import Foundation
import WarrenCore

/// `warren schedules validate [DIR]`: every error of every file, exit 1 if there is any.
struct ValidateSchedulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every schedule file under DIR; list every error with file:line:column."
    )

    @Argument(help: "The schedules directory.")
    var directory = "schedules"

    func run() throws {
        let set = try ScheduleInputs.load(directory)
        if set.errors.isEmpty {
            let workflows = set.workflows.isEmpty ? "" : " and \(set.workflows.count) workflow\(set.workflows.count == 1 ? "" : "s")"
            print("\(directory): \(set.schedules.count) schedules\(workflows) in \(set.files.count) files, all valid")
            return
        }
        ScheduleInputs.report(set.errors)
        FileHandle.standardError.write(Data("\(directory): \(set.errors.count) errors; \(set.rejectedFiles.count) of \(set.files.count) files rejected\n".utf8))
        throw ExitCode(1)
    }
}

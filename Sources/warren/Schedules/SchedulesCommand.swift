import ArgumentParser

/// `warren schedules`: check schedule files and see when schedules fire.
struct SchedulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "Validate schedule files, list schedules and show their next fire times.",
        subcommands: [ValidateSchedulesCommand.self, ListSchedulesCommand.self, NextFiresCommand.self]
    )
}

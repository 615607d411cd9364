import ArgumentParser

/// `warren schedules`: check schedule files and see when schedules fire.
struct SchedulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "Validate schedule files, list schedules and their next fire times, and operate them on the running scheduler.",
        subcommands: [ValidateSchedulesCommand.self, ListSchedulesCommand.self, NextFiresCommand.self,
                      PauseScheduleCommand.self, ResumeScheduleCommand.self, TriggerScheduleCommand.self,
                      BackfillScheduleCommand.self, PlanSchedulesCommand.self, ScheduleHistoryCommand.self,
                      ScheduleHealthCommand.self]
    )
}

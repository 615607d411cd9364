import ArgumentParser
import Foundation
import WarrenCore
import WarrenWorker

/// The `warren` command: argument parsing and wiring only.
@main
struct Warren: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "A cron-style job scheduler with RabbitMQ workers.",
        discussion: """
            Settings come from flags, then WARREN_* environment variables, then the first of \
            $WARREN_CONFIG, ~/.config/warren/warren.env and /etc/warren/warren.env (NAME=value \
            lines, as systemd's EnvironmentFile=; WARREN_CONFIG= reads none).
            """,
        // `buildCommit` is written by the BuildCommit plugin at build time.
        version: "warren \(WarrenVersion.number) (commit \(buildCommit))",
        subcommands: [SchedulerCommand.self, WorkerCommand.self, BackendCommand.self, PublishCommand.self, ResultsCommand.self, CancelCommand.self, SchedulesCommand.self, StatusCommand.self, DeadCommand.self, QueueCommand.self, WorkersCommand.self, DoctorCommand.self]
    )

    /// Runs the command, exiting 0 on success, 1 when the thing asked for failed and 2 for a
    /// usage or input error (argument-parser's own code for those is 64).
    static func main() async {
        // A worker's task runs under this same binary as its reaper (never returns then).
        TaskReaper.runIfRequested()
        // A large message's memory goes back to the system once it is handled.
        ProcessMemory.returnLargeBlocksToSystem()
        do {
            try ConfigFile.apply()
        } catch {
            FileHandle.standardError.write(Data("warren: \(error)\n".utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data("warren: \(message(for: error))\n".utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

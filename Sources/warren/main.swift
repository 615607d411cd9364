import ArgumentParser

/// The `warren` command: argument parsing and wiring only.
@main
struct Warren: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "A cron-style job scheduler with RabbitMQ workers.",
        subcommands: [StatusCommand.self]
    )
}

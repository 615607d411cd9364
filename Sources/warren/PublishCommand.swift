import ArgumentParser
import Cron
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// `warren publish TASK`: publish one ad-hoc task with confirms and print its id.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one task and print its id once the broker has confirmed it."
    )

    @OptionGroup var broker: BrokerOptions

    @Argument(help: "A task name from the workers' catalog.")
    var task: String

    @Option(help: "The queue to publish to (default: default).")
    var queue = WireNames.defaultQueue

    @Option(name: .customLong("arg"), help: "An argument as key=value (repeatable); the value is text.")
    var arguments: [String] = []

    @Option(name: .customLong("args-json"), help: "All arguments as one JSON value.")
    var argsJSON: String?

    @Option(help: "The task id (default: a new UUID).")
    var id: String?

    @Option(help: "Priority 0-9 (classic queues).")
    var priority: Int?

    @Option(help: "Deliver after this long, e.g. 10m; the broker holds the task meanwhile.")
    var delay: String?

    @Option(help: "Discard the task (recorded expired) if no worker starts it within this long, e.g. 1h.")
    var expires: String?

    func run() async throws {
        guard Names.isValidScheduleOrTaskName(task) else { throw ValidationError("TASK \"\(task)\": use letters, digits, \".\", \"_\", \"-\" and \":\"") }
        if let problem = Names.queueNameProblem(queue) { throw ValidationError("--queue \(queue): \(problem)") }
        if let priority, !(0...9).contains(priority) { throw ValidationError("--priority: expected 0 to 9, got \(priority)") }
        let args = try parsedArguments()
        let delay = try self.delay.map { try ArgumentValues.duration($0, option: "--delay") } ?? .zero
        let expiresAt = try expires.map { Date().addingTimeInterval(try ArgumentValues.duration($0, option: "--expires").seconds + delay.seconds) }
        let message = TaskMessage(id: id ?? TaskMessage.newID(), task: task, args: args, queue: queue, priority: priority, expiresAt: expiresAt)
        let connection = try await broker.connect(command: "publish")
        do {
            try await TaskPublisher.ensureQueue(queue, on: connection)
            let channel = try await connection.openChannel(confirms: true)
            let outgoing = message.outgoing(delay: delay)
            try await channel.publish(outgoing.body, exchange: outgoing.exchange, routingKey: outgoing.routingKey,
                                      properties: outgoing.properties, mandatory: outgoing.mandatory)
            await connection.close()
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren publish: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print(message.id)
    }

    private func parsedArguments() throws -> JSONValue {
        if let argsJSON {
            guard !arguments.isEmpty else {
                do {
                    return try JSONText.parse(Array(argsJSON.utf8))
                } catch {
                    throw ValidationError("--args-json: \(error)")
                }
            }
            throw ValidationError("give --arg or --args-json, not both")
        }
        var values: [String: JSONValue] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw ValidationError("--arg \(argument): expected key=value")
            }
            values[String(argument[..<equals])] = .string(String(argument[argument.index(after: equals)...]))
        }
        return .object(values)
    }
}

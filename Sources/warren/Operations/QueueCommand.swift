import ArgumentParser
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// `warren queue`: look into a task queue.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Look into a task queue.",
        subcommands: [QueuePeekCommand.self]
    )
}

struct QueuePeekCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peek",
        abstract: "The tasks waiting first in a queue: id, task, age, attempt.",
        discussion: """
            Nothing is taken from the workers: the peek consumes at a priority below theirs, so it \
            sees only tasks no worker has room for, holds them for a moment and returns them in \
            their order (marked redelivered). Tasks a worker has already taken are not shown.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Argument(help: "The queue, e.g. default.")
    var queue: String

    @Option(help: "At most this many tasks (1-1000).")
    var limit = 10

    @Flag(help: "As one JSON object.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit: expected 1 to 1000, got \(limit)") }
    }

    func run() async throws {
        let connection = try await broker.connect(command: "queue peek")
        let peeked: (state: QueueState, tasks: [QueuedTask])?
        do {
            peeked = try await Inspector(connection: connection).peek(queue, limit: limit)
            await connection.close()
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren queue peek: \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard let (state, tasks) = peeked else {
            FileHandle.standardError.write(Data("warren queue peek: queue \(queue) does not exist\n".utf8))
            throw ExitCode(1)
        }
        let now = Date()
        if json {
            print(JSONValue.object([
                "queue": .string(queue), "ready": .integer(Int64(state.messageCount)), "consumers": .integer(Int64(state.consumerCount)),
                "tasks": .array(tasks.map { $0.json(now: now) }),
            ]).jsonText)
            return
        }
        print("\(queue): \(state.messageCount) ready, \(state.consumerCount) consumer\(state.consumerCount == 1 ? "" : "s")")
        guard !tasks.isEmpty else {
            if state.messageCount > 0 { print("(the workers are taking the ready tasks as they come: none is left waiting for room)") }
            return
        }
        let columns: [TerminalTable.Column] = [
            .init(title: "AGE", width: 12), .init(title: "TASK", width: 20), .init(title: "ATT", width: 3, alignRight: true),
            .init(title: "SCHEDULE", width: nil), .init(title: "ID", width: nil),
        ]
        print(TerminalTable(columns).render(tasks.map { task in
            [DeadCommand.age(task.publishedAt, now: now), task.task ?? "-", "\(task.attempt)", task.schedule ?? "-", task.id.isEmpty ? "(no id)" : task.id]
        }))
        if state.messageCount > tasks.count { print("… \(state.messageCount - tasks.count) more") }
    }
}

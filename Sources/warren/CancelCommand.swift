import ArgumentParser
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// `warren cancel ID`: a queued task never runs, a running one is stopped; both are recorded `cancelled`.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a queued or running task.",
        discussion: """
            The cancel is appended to the durable stream warren.cancellations (kept 7 days), which \
            every worker reads from its start: a queued task is not run when a worker receives it, \
            even a worker started later, and a running one is stopped (SIGTERM to its process \
            group, then SIGKILL after the task's kill_after). Either way its result is `cancelled`. \
            A task that already finished is not affected.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Argument(help: "The task id.")
    var id: String

    func run() async throws {
        guard !id.isEmpty, id.utf8.count <= 255 else { throw ValidationError("ID: expected a task id of 1 to 255 bytes") }
        let connection = try await broker.connect(command: "cancel")
        do {
            try await TaskClient(connection: connection, actor: RuntimeSchedules.actor()).cancel(id)
            await connection.close()
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren cancel: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("cancel requested for \(id)")
    }
}

import ArgumentParser
import Foundation
import WarrenCore
import WarrenMessaging

/// `warren workers`: the workers alive now, from their announcements on `warren.workers`.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List the workers alive now: name, queues, concurrency, running tasks, deliveries held, tasks finished.",
        discussion: """
            Each worker announces itself every 5 seconds on the stream warren.workers; one that missed \
            \(WorkerAnnouncement.missedBeforeGone) announcements (killed, or cut off from the broker) is gone, \
            and one that stopped gracefully is gone at once.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() async throws {
        let connection = try await broker.connect(command: "workers")
        let workers: [WorkerAnnouncement]
        do {
            workers = try await WorkerAnnouncements.alive(on: connection)
            await connection.close()
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren workers: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            for worker in workers { print(worker.json.jsonText) }
            return
        }
        guard !workers.isEmpty else {
            FileHandle.standardError.write(Data("no workers alive\n".utf8))
            return
        }
        let now = Date()
        let columns: [TerminalTable.Column] = [
            .init(title: "WORKER", width: nil), .init(title: "QUEUES", width: nil), .init(title: "RUNNING", width: 9, alignRight: true),
            .init(title: "HELD", width: 6, alignRight: true), .init(title: "FINISHED", width: 9, alignRight: true),
            .init(title: "VERSION", width: 8), .init(title: "SEEN", width: 8, alignRight: true),
        ]
        print(TerminalTable(columns).render(workers.map { worker in
            [worker.worker, worker.queues.joined(separator: ","), "\(worker.running)/\(worker.concurrency)",
             "\(worker.unsettled.values.reduce(0, +))", "\(worker.finished)", worker.version, DeadCommand.age(worker.at, now: now)]
        }))
    }
}

import ArgumentParser
import Foundation
import WarrenCore
import WarrenMessaging

/// `warren workers`: the workers alive now, from their announcements on `warren.workers`.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List the workers alive now: name, queues, how busy, running tasks and which, deliveries held, tasks finished.",
        discussion: """
            Each worker announces itself every 5 seconds on the stream warren.workers; one that missed \
            \(WorkerAnnouncement.missedBeforeGone) announcements (killed, or cut off from the broker) is gone, \
            and one that stopped gracefully is gone at once. BUSY is the share of its slots in use over the \
            last minute (sampled every second; the metric warren_worker_busy_ratio); RUNNING NOW the \
            longest-running task that takes time (the instant built-ins are not listed).
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() async throws {
        guard let workers = await WorkerAnnouncements.alive(try broker.configuration(connectionName: "warren-workers")) else {
            FileHandle.standardError.write(Data("warren workers: cannot read \(WireNames.workersStream) from the broker\n".utf8))
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
        print(TerminalTable(Self.columns).render(workers.map { Self.row($0, now: now) }))
    }

    static let columns: [TerminalTable.Column] = [
        .init(title: "WORKER", width: nil), .init(title: "QUEUES", width: nil), .init(title: "BUSY", width: 5, alignRight: true),
        .init(title: "RUNNING", width: 8, alignRight: true), .init(title: "HELD", width: 6, alignRight: true),
        .init(title: "FINISHED", width: 9, alignRight: true), .init(title: "SEEN", width: 8, alignRight: true),
        .init(title: "RUNNING NOW", width: nil),
    ]

    /// A worker's line: what it is, how busy over the last minute, and what it runs now.
    static func row(_ worker: WorkerAnnouncement, now: Date) -> [String] {
        let current = worker.runningTasks.first.map { "\($0.task) \($0.id) (\(DeadCommand.elapsed(since: $0.since, now: now)))" } ?? "-"
        let more = worker.runningTasks.count > 1 ? " +\(worker.runningTasks.count - 1)" : ""
        return [worker.worker, worker.queues.joined(separator: ","), String(format: "%.0f%%", worker.busy * 100),
                "\(worker.running)/\(worker.concurrency)", "\(worker.unsettled.values.reduce(0, +))", "\(worker.finished)",
                DeadCommand.age(worker.at, now: now), current + more]
    }
}


import ArgumentParser
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging
import WarrenScheduler

/// `warren status`: is the broker reachable, which scheduler is active, how deep are Warren's
/// queues.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show broker reachability, the active scheduler instance, and the depth, consumers and oldest task of Warren's queues.",
        discussion: """
            A queue that does not exist is shown as "missing". Queues shown: default, warren.results, warren.dead-letter, every task \
            queue a worker has consumed on this broker (each worker records its queues in the stream warren.queues), every queue named \
            in the schedule files (--schedules, or ./schedules when it exists) and each --queue. OLDEST is the age of the oldest \
            ready task no worker has room for (read as `warren queue peek` does, so it is marked redelivered); UNACKED counts the \
            deliveries the live workers hold (from their announcements on warren.workers: running or waiting for a slot); \
            "delayed" counts tasks the broker holds for --delay, --at and retry backoff. \
            Exit status 1 when the broker is unreachable or a queue given with --queue does not exist.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Option(name: .customLong("queue"), help: "Another queue to inspect (repeatable).")
    var queues: [String] = []

    @Option(help: "Directory of schedule files whose queues to include (env WARREN_SCHEDULES; default ./schedules when it exists).")
    var schedules: String?

    @Flag(help: "As one JSON object.")
    var json = false

    struct QueueRow {
        var name: String
        var state: QueueState?
        /// When the oldest ready task (that no worker has room for) was published.
        var oldest: Date?
        /// Deliveries the live workers hold unacknowledged (their announcements).
        var unacked = 0
    }

    func run() async throws {
        let configuration = try broker.configuration(connectionName: "warren-status")
        let connection: Connection
        do {
            connection = try await Connection.open(configuration)
        } catch {
            if json {
                print(JSONValue.object(["broker": .object(["reachable": .bool(false), "error": .string("\(error)")])]).jsonText)
            }
            FileHandle.standardError.write(Data("warren status: broker unreachable: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let inspector = Inspector(connection: connection)
        let found = try await inspector.activeScheduler()
        let scheduler = SchedulerState(active: found.active, instance: found.instance, since: found.since)
        let registered = await QueueRegistry.names(configuration)
        let workers = await WorkerAnnouncements.alive(configuration) ?? []
        let unacked = WorkerAnnouncement.unsettled(workers)
        var rows = try await inspector.queues(try queueNames(registered: registered)).map { QueueRow(name: $0.name, state: $0.state) }
        // Registered queues since deleted are left out; the fixed ones and those asked for show as missing.
        rows.removeAll { $0.state == nil && registered.contains($0.name) && !queues.contains($0.name) && !Self.fixed.contains($0.name) }
        for index in rows.indices { rows[index].unacked = unacked[rows[index].name] ?? 0 }
        for index in rows.indices where (rows[index].state?.messageCount ?? 0) > 0 && rows[index].name != WireNames.deadLetterQueue {
            rows[index].oldest = (try? await inspector.peek(rows[index].name, limit: 1))?.tasks.first?.publishedAt
        }
        let delayed = try await inspector.delayedTasks()
        await connection.close()
        let endpoint = connection.endpoint.map { "\($0)" } ?? "?"
        if json {
            printJSON(endpoint: endpoint, scheduler: scheduler, rows: rows, delayed: delayed, workers: workers)
        } else {
            printTable(endpoint: endpoint, scheduler: scheduler, rows: rows, delayed: delayed, workers: workers.count)
            if !workers.isEmpty {
                print("")
                let now = Date()
                print(TerminalTable(WorkersCommand.columns).render(workers.map { WorkersCommand.row($0, now: now) }))
            }
        }
        if rows.contains(where: { $0.state == nil && queues.contains($0.name) }) { throw ExitCode(1) }
    }

    static let fixed = [WireNames.defaultQueue, WireNames.resultsQueue, WireNames.deadLetterQueue]

    /// Warren's own queues, the registered ones, the schedules' queues, then the ones asked
    /// for; each once.
    private func queueNames(registered: [String]) throws -> [String] {
        var names = Self.fixed + registered
        let environment = ProcessInfo.processInfo.environment
        let directory = schedules ?? environment["WARREN_SCHEDULES"]
        var isDirectory: ObjCBool = false
        if let directory = directory ?? (FileManager.default.fileExists(atPath: "schedules", isDirectory: &isDirectory) && isDirectory.boolValue ? "schedules" : nil) {
            do {
                names += try ScheduleDirectory.parseFiles(in: directory).flatMap { $0.schedules.map(\.queue) }.sorted()
            } catch {
                if schedules != nil { throw ValidationError("--schedules: \(error)") }
            }
        }
        names += queues
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    private func printTable(endpoint: String, scheduler: SchedulerState, rows: [QueueRow], delayed: Int, workers: Int) {
        print("broker     \(endpoint)  reachable")
        print("scheduler  \(scheduler.text)")
        print("workers    \(workers) alive")
        print("")
        let columns: [TerminalTable.Column] = [
            .init(title: "QUEUE", width: nil), .init(title: "READY", width: 9, alignRight: true), .init(title: "UNACKED", width: 9, alignRight: true),
            .init(title: "CONSUMERS", width: 9, alignRight: true), .init(title: "OLDEST", width: 10, alignRight: true),
        ]
        let now = Date()
        let table = rows.map { row -> [String] in
            guard let state = row.state else { return [row.name, "missing", "-", "-", "-"] }
            return [row.name, "\(state.messageCount)", "\(row.unacked)", "\(state.consumerCount)", DeadCommand.elapsed(since: row.oldest, now: now)]
        }
        print(TerminalTable(columns).render(table))
        print("")
        let deadLetters = rows.first { $0.name == WireNames.deadLetterQueue }?.state?.messageCount ?? 0
        print("dead letters  \(deadLetters)")
        print("delayed       \(delayed)")
    }

    private func printJSON(endpoint: String, scheduler: SchedulerState, rows: [QueueRow], delayed: Int, workers: [WorkerAnnouncement]) {
        let queues: [JSONValue] = rows.map { row in
            .object(["name": .string(row.name), "exists": .bool(row.state != nil),
                     "ready": row.state.map { .integer(Int64($0.messageCount)) } ?? .null,
                     "unacked": row.state.map { _ in .integer(Int64(row.unacked)) } ?? .null,
                     "consumers": row.state.map { .integer(Int64($0.consumerCount)) } ?? .null,
                     "oldest_age_seconds": row.oldest.map { .number(max(0, Date().timeIntervalSince($0)).rounded()) } ?? .null])
        }
        let deadLetters = rows.first { $0.name == WireNames.deadLetterQueue }?.state?.messageCount
        let object: JSONValue = .object([
            "broker": .object(["reachable": .bool(true), "endpoint": .string(endpoint)]),
            "scheduler": .object(["active": .bool(scheduler.active), "instance": scheduler.instance.map(JSONValue.string) ?? .null,
                                  "since": scheduler.since.map(JSONValue.string) ?? .null]),
            "queues": .array(queues),
            "dead_letters": deadLetters.map { .integer(Int64($0)) } ?? .null,
            "delayed": .integer(Int64(delayed)),
            "workers": .array(workers.map(\.json)),
        ])
        print(object.jsonText)
    }

    struct SchedulerState {
        var active: Bool
        var instance: String?
        var since: String?

        var text: String {
            guard active else { return "no active instance" }
            guard let instance else { return "active: (instance unknown)" }
            return "active: \(instance) (since \(since ?? "?"))"
        }
    }
}

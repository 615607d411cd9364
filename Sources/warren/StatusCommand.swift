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
        abstract: "Show broker reachability, the active scheduler instance, and the depth and consumers of Warren's queues.",
        discussion: """
            A queue that does not exist is shown as "missing". Queues shown: default, warren.results, warren.dead-letter, every queue named in the \
            schedule files (--schedules, or ./schedules when it exists) and each --queue; \
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
        let rows = try await inspector.queues(try queueNames()).map { QueueRow(name: $0.name, state: $0.state) }
        let delayed = try await inspector.delayedTasks()
        await connection.close()
        let endpoint = connection.endpoint.map { "\($0)" } ?? "?"
        if json {
            printJSON(endpoint: endpoint, scheduler: scheduler, rows: rows, delayed: delayed)
        } else {
            printTable(endpoint: endpoint, scheduler: scheduler, rows: rows, delayed: delayed)
        }
        if rows.contains(where: { $0.state == nil && queues.contains($0.name) }) { throw ExitCode(1) }
    }

    /// Warren's own queues, the schedules' queues, then the ones asked for; each once.
    private func queueNames() throws -> [String] {
        var names = [WireNames.defaultQueue, WireNames.resultsQueue, WireNames.deadLetterQueue]
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

    private func printTable(endpoint: String, scheduler: SchedulerState, rows: [QueueRow], delayed: Int) {
        print("broker     \(endpoint)  reachable")
        print("scheduler  \(scheduler.text)")
        print("")
        let columns: [TerminalTable.Column] = [
            .init(title: "QUEUE", width: nil), .init(title: "READY", width: 9, alignRight: true), .init(title: "CONSUMERS", width: 9, alignRight: true),
        ]
        let table = rows.map { row -> [String] in
            guard let state = row.state else { return [row.name, "missing", "-"] }
            return [row.name, "\(state.messageCount)", "\(state.consumerCount)"]
        }
        print(TerminalTable(columns).render(table))
        print("")
        let deadLetters = rows.first { $0.name == WireNames.deadLetterQueue }?.state?.messageCount ?? 0
        print("dead letters  \(deadLetters)")
        print("delayed       \(delayed)")
    }

    private func printJSON(endpoint: String, scheduler: SchedulerState, rows: [QueueRow], delayed: Int) {
        let queues: [JSONValue] = rows.map { row in
            .object(["name": .string(row.name), "exists": .bool(row.state != nil),
                     "ready": row.state.map { .integer(Int64($0.messageCount)) } ?? .null,
                     "consumers": row.state.map { .integer(Int64($0.consumerCount)) } ?? .null])
        }
        let deadLetters = rows.first { $0.name == WireNames.deadLetterQueue }?.state?.messageCount
        let object: JSONValue = .object([
            "broker": .object(["reachable": .bool(true), "endpoint": .string(endpoint)]),
            "scheduler": .object(["active": .bool(scheduler.active), "instance": scheduler.instance.map(JSONValue.string) ?? .null,
                                  "since": scheduler.since.map(JSONValue.string) ?? .null]),
            "queues": .array(queues),
            "dead_letters": deadLetters.map { .integer(Int64($0)) } ?? .null,
            "delayed": .integer(Int64(delayed)),
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

import Foundation
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// Cluster mode (`--queue-type quorum`, SPEC §10) on the single test broker: what each process
/// declares, what it refuses, and what it says when the queues already there are of the other
/// type. (Node loss itself is tested on a real three-node cluster: `scripts/cluster test`.)
@Suite("cluster mode: --queue-type quorum")
struct ClusterModeTests {
    /// Every queue of `vhost` as (type, durable, exclusive), from rabbitmqctl.
    static func queues(of vhost: TestVirtualHost) async throws -> [String: (type: String, durable: Bool, exclusive: Bool)] {
        let text = try await brokerCtl(["list_queues", "-p", vhost.name, "-q", "--no-table-headers", "name", "type", "durable", "exclusive"])
        var queues: [String: (type: String, durable: Bool, exclusive: Bool)] = [:]
        for line in text.split(separator: "\n") {
            // Quorum queues and streams leave `exclusive` empty.
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3 else { continue }
            queues[fields[0]] = (fields[1], fields[2] == "true", fields.count > 3 && fields[3] == "true")
        }
        return queues
    }

    static func scheduleDirectory(_ files: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-qq-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: directory.appendingPathComponent(name)) }
        return directory
    }

    @Test("every durable queue the worker, backend and scheduler declare is a quorum queue; tasks and fires flow; a priority is refused by publish, POST /api/tasks and the scheduler")
    func everyDurableQueueIsQuorum() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let fixture = try await StoreFixture.make(.sqlite)
        let queue = "qq-\(UUID().uuidString.prefix(8).lowercased())"
        let directory = try Self.scheduleDirectory([
            "tick.yaml": "schedules:\n  tick:\n    every: 1s\n    task: warren.echo\n    queue: \(queue)\n    catchup: skip\n",
            "urgent.yaml": "schedules:\n  urgent:\n    cron: \"0 2 * * *\"\n    task: warren.echo\n    queue: \(queue)\n    priority: 5\n",
        ])
        let environment = ["WARREN_AMQP_URL": vhost.url, "WARREN_STORE": fixture.argument, "WARREN_QUEUE_TYPE": "quorum"]
        let port = TestPorts.free()
        let base = "http://127.0.0.1:\(port)"
        let worker = try WarrenProcess(["worker", "--queue", queue, "--log-level", "warning"], environment: environment)
        let backend = try WarrenProcess(["backend", "--http", "127.0.0.1:\(port)", "--api-token", "qq-token", "--log-level", "warning"],
                                        environment: environment)
        let scheduler = try WarrenProcess(["scheduler", "--schedules", directory.path, "--instance", "qq", "--log-level", "info"],
                                          environment: environment)
        defer {
            for process in [worker, backend, scheduler] { process.signal(SIGTERM) }
            try? FileManager.default.removeItem(at: directory)
        }
        try await waitUntil("two fires of the every-second schedule stored") {
            for process in [worker, backend, scheduler] where !process.isRunning { throw HarnessError.exited(process.output) }
            return try await fixture.store.list(ResultQuery(schedule: "tick", limit: 10)).count >= 2
        }
        let published = try await runWarren(["publish", "warren.echo", "--queue", queue, "--arg", "x=1", "--wait"], environment: environment)
        #expect(published.status == 0, "\(published.stderr)")
        #expect(published.stdout.contains(#""status":"succeeded""#))

        let queues = try await Self.queues(of: vhost)
        for name in [WireNames.resultsQueue, WireNames.deadLetterQueue, "warren.scheduler.progress", queue, "warren.due", "warren.delayed.0", "warren.delayed.27"] {
            #expect(queues[name]?.type == "quorum", "\(name): \(String(describing: queues[name]))")
        }
        let notReplicated = queues.filter { $0.value.durable && !["quorum", "stream"].contains($0.value.type) }.map(\.key)
        #expect(notReplicated == [], "durable queues that are neither quorum queues nor streams")
        // The leader lock is the one classic queue: exclusive and transient, it lives and dies with its holder's connection.
        #expect(queues["warren.scheduler.lock"].map { [$0.type == "classic", !$0.durable, $0.exclusive] } == [true, true, true])

        let priority = try await runWarren(["publish", "warren.echo", "--queue", queue, "--priority", "5"], environment: environment)
        #expect(priority.status == 2)
        #expect(priority.stderr == "warren: --priority: task queues are quorum queues here (queue type quorum), and quorum queues have no priorities in RabbitMQ 3.10-3.13; drop the priority or run with --queue-type classic\n")
        let zero = try await runWarren(["publish", "warren.echo", "--queue", queue, "--priority", "0"], environment: environment)
        #expect(zero.status == 0, "priority 0 is the default and always accepted: \(zero.stderr)")
        let api = try await HTTPAPITests.request("POST", "\(base)/api/tasks", body: #"{"task": "warren.echo", "queue": "\#(queue)", "priority": 3}"#,
                                                 headers: ["Authorization": "Bearer qq-token"])
        #expect(api.status == 400)
        #expect(api.text.contains("priority: task queues are quorum queues here"))
        #expect(scheduler.output.contains("urgent.yaml:2:3: schedule \\\"urgent\\\": priority: task queues are quorum queues here")
                || scheduler.output.contains("urgent.yaml:2:3: schedule \"urgent\": priority: task queues are quorum queues here"),
                "\(scheduler.output)")
        #expect(scheduler.output.contains("schedule file rejected; none of its schedules are in force"))
        for process in [worker, backend, scheduler] {
            process.signal(SIGTERM)
            _ = try await process.wait()
        }
        await fixture.close()
    }

    @Test("processes started with --queue-type quorum on a deployment whose queues are classic: each exits at start with one line naming the queue and how to move")
    func typeMismatchAtStart() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let fixture = try await StoreFixture.make(.sqlite)
        let classic = ["WARREN_AMQP_URL": vhost.url, "WARREN_STORE": fixture.argument]
        let quorum = classic.merging(["WARREN_QUEUE_TYPE": "quorum"]) { $1 }
        let first = try await runWarren(["publish", "warren.echo", "--queue", "moving"], environment: classic)
        #expect(first.status == 0, "\(first.stderr)")
        let directory = try Self.scheduleDirectory(["none.yaml": "schedules: {}\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let expected = "queue warren.results exists with other arguments than this process declares it with (queue type quorum): every Warren process must run with the same --queue-type (WARREN_QUEUE_TYPE), and RabbitMQ cannot change an existing queue's type: to move a deployment between classic and quorum follow docs/operations.md, \"Moving to cluster mode\" (broker: "
        for (command, arguments) in [("worker", ["--queue", "moving"]), ("backend", ["--http", "off"]),
                                     ("scheduler", ["--schedules", directory.path])] {
            let process = try WarrenProcess([command] + arguments + ["--log-level", "warning"], environment: quorum)
            let exit = try await process.wait(timeout: .seconds(30))
            #expect(exit.status == 1, "\(command): \(exit.output)")
            let line = exit.output.split(separator: "\n").first { $0.hasPrefix("warren \(command): ") }
            #expect(line?.hasPrefix("warren \(command): \(expected)") == true, "\(command): \(exit.output)")
        }
        let publish = try await runWarren(["publish", "warren.echo", "--queue", "moving"], environment: quorum)
        #expect(publish.status == 1)
        #expect(publish.stderr.hasPrefix("warren publish: \(expected)"), "\(publish.stderr)")
        // Nothing was changed: the classic deployment still works.
        let again = try await runWarren(["publish", "warren.echo", "--queue", "moving"], environment: classic)
        #expect(again.status == 0)
        #expect(try await Self.queues(of: vhost)[WireNames.resultsQueue]?.type == "classic")
        await fixture.close()
    }
}

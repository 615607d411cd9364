import Foundation
import Testing
import Cron
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// Warren on a real three-node RabbitMQ cluster (`scripts/cluster test` starts it and runs these;
/// without WARREN_TEST_CLUSTER_URLS they are skipped). Serialized: they stop and start nodes.
@Suite("a real three-node RabbitMQ cluster", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_URLS"] != nil, "run by scripts/cluster test"))
struct ClusterTests {
    static let urls = (ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_URLS"] ?? "").split(separator: ",").map(String.init)
    static let script = ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_SCRIPT"] ?? "scripts/cluster"

    /// The URL list starting at node `first` (1-based), then the others in order.
    static func list(from first: Int) -> String {
        (0..<urls.count).map { urls[(first - 1 + $0) % urls.count] }.joined(separator: ",")
    }

    @discardableResult
    static func cluster(_ arguments: [String]) async throws -> String {
        try await runChecked(script, arguments)
    }

    static func queueExists(_ name: String) async throws -> Bool {
        try await cluster(["ctl", "1", "list_queues", "-q", "--no-table-headers", "name", "type"]).contains(name)
    }

    @Test("with quorum queues and a URL list, a node stopped while 3000 tasks flow: every task ends with exactly one stored, final result")
    func nodeLossUnderLoad() async throws {
        let fixture = try await StoreFixture.make(.sqlite)
        let queue = "cluster-\(UUID().uuidString.prefix(8).lowercased())"
        // The backend's connection (and so warren.results, a classic queue) on node 1, which stays up;
        // the worker's on node 2, which is stopped; tasks published through node 3.
        let backend = try WarrenProcess(["backend", "--http", "off", "--log-level", "warning"],
                                        environment: ["WARREN_AMQP_URL": Self.list(from: 1), "WARREN_STORE": fixture.argument])
        let worker = try WarrenProcess(["worker", "--queue", queue, "--queue-type", "quorum", "--concurrency", "16", "--prefetch", "32",
                                        "--log-level", "warning"], environment: ["WARREN_AMQP_URL": Self.list(from: 2)])
        try await waitUntil("the quorum queue declared") { try await Self.queueExists(queue) }
        let total = 3000
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(queue).jsonl")
        try Data((0..<total).map { #"{"task": "warren.sleep", "queue": "\#(queue)", "args": {"seconds": 0.05}, "id": "\#(queue)-\#($0)"}"# }
            .joined(separator: "\n").utf8).write(to: file)
        let published = try await runWarren(["publish", "--batch", file.path], environment: ["WARREN_AMQP_URL": Self.list(from: 3)])
        #expect(published.stdout == "\(total) of \(total) tasks from \(file.path) confirmed\n")
        try await waitUntil("some results stored", timeout: .seconds(120)) { try await fixture.store.counts().tasks >= 300 }
        try await Self.cluster(["stop-node", "2"])
        let atStop = try await fixture.store.counts().tasks
        try await waitUntil("every task's final result stored", timeout: .seconds(300)) {
            try await fixture.store.finalResults(since: nil).count == total
        }
        try await Self.cluster(["start-node", "2"])
        let finals = try await fixture.store.finalResults(since: nil)
        let counts = try await fixture.store.counts()
        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        let workerExit = try await worker.wait()
        _ = try await backend.wait()
        await fixture.close()
        #expect(atStop < total, "the node was stopped while tasks were flowing")
        #expect(counts.tasks == total, "one latest result per task id")
        #expect(finals.allSatisfy { $0.status == .succeeded })
        #expect(counts.attempts >= total)
        #expect(workerExit.output.contains("connected") || workerExit.output.isEmpty)
        print("cluster node loss: \(total) tasks, node 2 stopped after \(atStop) results; \(counts.attempts) attempts stored for \(counts.tasks) tasks")
    }

    @Test("the scheduler keeps firing an every-second schedule while a node is lost: every second from the first fire to the last is stored once")
    func schedulerThroughNodeLoss() async throws {
        let fixture = try await StoreFixture.make(.sqlite)
        let queue = "cluster-s-\(UUID().uuidString.prefix(8).lowercased())"
        let name = "tick-\(UUID().uuidString.prefix(6).lowercased())"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("""
            schedules:
              \(name):
                every: 1s
                task: warren.echo
                queue: \(queue)
                catchup: skip
            """.utf8).write(to: directory.appendingPathComponent("tick.yaml"))
        // The scheduler and the backend on node 1 (the scheduler's progress queue is a classic
        // queue: its node must stay up), the worker on node 3; node 2, holding a replica of the
        // quorum task queue, is lost while the schedule fires every second.
        let worker = try WarrenProcess(["worker", "--queue", queue, "--queue-type", "quorum", "--log-level", "warning"],
                                       environment: ["WARREN_AMQP_URL": Self.list(from: 3)])
        try await waitUntil("the quorum queue declared") { try await Self.queueExists(queue) }
        let backend = try WarrenProcess(["backend", "--http", "off", "--log-level", "warning"],
                                        environment: ["WARREN_AMQP_URL": Self.list(from: 1), "WARREN_STORE": fixture.argument])
        let scheduler = try WarrenProcess(["scheduler", "--schedules", directory.path, "--instance", "cluster", "--log-level", "info"],
                                          environment: ["WARREN_AMQP_URL": Self.list(from: 1)])
        do {
            try await waitUntil("five fires stored", timeout: .seconds(60)) { try await fixture.store.list(ResultQuery(schedule: name, limit: 100)).count >= 5 }
        } catch {
            print("scheduler:\n\(scheduler.output)\nworker:\n\(worker.output)\nbackend:\n\(backend.output)")
            throw error
        }
        try await Self.cluster(["stop-node", "2"])
        try await Task.sleep(for: .seconds(8))
        try await Self.cluster(["start-node", "2"])
        try await Task.sleep(for: .seconds(4))
        scheduler.signal(SIGTERM)
        _ = try await scheduler.wait()
        // Let the last fires through, then compare.
        try await Task.sleep(for: .seconds(3))
        let stored = try await fixture.store.list(ResultQuery(schedule: name, limit: 1000))
        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        _ = try await worker.wait()
        _ = try await backend.wait()
        await fixture.close()
        let seconds = stored.compactMap { $0.id.split(separator: "@").last.flatMap { try? Timestamp.parse(String($0), in: .utc) } }.sorted()
        #expect(stored.count >= 15)
        #expect(Set(seconds).count == seconds.count, "no fire stored twice")
        if let first = seconds.first, let last = seconds.last {
            #expect(seconds == Array(first...last), "every second from the first fire to the last is present")
        }
        #expect(stored.allSatisfy { $0.status == .succeeded })
    }
}

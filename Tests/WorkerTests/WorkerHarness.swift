import Foundation
import RabbitMQ
import Synchronization
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport

/// A test's own view of the results and dead letters: an exclusive queue bound to each fanout
/// exchange, filtered to the test's task queue, so tests running in parallel do not meet.
final class WorkerHarness: Sendable {
    static let url = testBrokerURL

    let queue: String
    /// The broker URL (with its virtual host) the harness and its workers use.
    let url: String
    let connection: Connection
    let publisher: Channel
    private let collected = Mutex<(results: [TaskResult], deadLetters: [(headers: FieldTable, body: Data)])>(([], []))

    private init(queue: String, url: String, connection: Connection, publisher: Channel) {
        self.queue = queue
        self.url = url
        self.connection = connection
        self.publisher = publisher
    }

    /// Connects, declares `queue` like a worker would, and starts collecting.
    static func make(queue prefix: String, url: String = WorkerHarness.url,
                     options: TaskQueueOptions = TaskQueueOptions()) async throws -> WorkerHarness {
        let queue = "test.\(prefix).\(UUID().uuidString.prefix(8))"
        var configuration = try ConnectionConfiguration(urls: url, connectionName: "test-\(queue)")
        configuration.logger.logLevel = .error
        let connection = try await Connection.open(configuration)
        let setup = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareShared(on: setup, queueType: .classic)
        try await WarrenTopology.declareTaskQueue(queue, options: options, on: setup)
        let harness = WorkerHarness(queue: queue, url: url, connection: connection, publisher: try await connection.openChannel(confirms: true))
        for (exchange, isResult) in [(WireNames.resultsExchange, true), (WireNames.deadLetterExchange, false)] {
            let state = try await setup.declare(QueueSpec(name: "", durable: false, exclusive: true, autoDelete: true))
            try await setup.bind(QueueBinding(queue: state.name, exchange: exchange, routingKey: ""))
            let consumer = try await setup.consume(queue: state.name)
            Task { await harness.collect(consumer, results: isResult) }
        }
        return harness
    }

    private func collect(_ consumer: Consumer, results: Bool) async {
        for await delivery in consumer {
            try? delivery.ack()
            if results {
                guard let result = try? TaskResult.decode(delivery.body), result.queue == queue else { continue }
                collected.withLock { $0.results.append(result) }
            } else {
                let headers = delivery.properties.headers ?? [:]
                guard headers[WireHeaders.deadLetterQueue]?.stringValue == queue else { continue }
                collected.withLock { $0.deadLetters.append((headers, delivery.body)) }
            }
        }
    }

    var results: [TaskResult] { collected.withLock { $0.results } }
    var deadLetters: [(headers: FieldTable, body: Data)] { collected.withLock { $0.deadLetters } }

    /// Results for task `id`, in arrival order.
    func results(for id: String) -> [TaskResult] { results.filter { $0.id == id } }

    /// Waits for a final result of `id` and returns it.
    func finalResult(_ id: String, timeout: Duration = .seconds(30)) async throws -> TaskResult {
        try await waitUntil("a final result for \(id)", timeout: timeout) { self.results(for: id).contains { $0.status.isFinal } }
        return results(for: id).first { $0.status.isFinal }!
    }

    /// Publishes a task to this harness's queue with confirms.
    func publish(_ task: String, args: JSONValue = .object([:]), id: String = TaskMessage.newID(), delay: Duration = .zero,
                 traceparent: String? = nil) async throws -> String {
        let outgoing = TaskMessage(id: id, task: task, args: args, queue: queue, traceparent: traceparent).outgoing(delay: delay)
        try await publisher.publish(outgoing.body, exchange: outgoing.exchange, routingKey: outgoing.routingKey,
                                    properties: outgoing.properties, mandatory: outgoing.mandatory)
        return id
    }

    /// Publishes a raw body to the queue.
    func publishRaw(_ body: Data, properties: BasicProperties = BasicProperties(deliveryMode: 2)) async throws {
        try await publisher.publish(body, exchange: WireNames.tasksExchange, routingKey: queue, properties: properties, mandatory: true)
    }

    /// Starts `warren worker` on this harness's queue.
    func startWorker(_ arguments: [String] = []) throws -> WarrenProcess {
        try WarrenProcess(["worker", "--queue", queue, "--log-level", "warning"] + arguments, environment: ["WARREN_AMQP_URL": url])
    }

    /// Deletes the test's queue and disconnects.
    func close() async {
        _ = try? await publisher.deleteQueue(queue)
        await connection.close()
    }
}

/// A catalog file in a temporary directory.
func catalogFile(_ yaml: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("warren-catalog-\(UUID().uuidString).yaml").path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// A catalog with one task, `wait-for-gate`, that runs until `open()` creates its gate file: a
/// task still running at a chosen moment, whatever the machine's load. Each run first creates
/// the `started` file.
struct GateTask {
    let gate = FileManager.default.temporaryDirectory.appendingPathComponent("warren-gate-\(UUID().uuidString)").path
    var started: String { gate + ".started" }
    let catalog: String

    init() throws {
        catalog = try catalogFile("""
            tasks:
              wait-for-gate:
                run: ["/bin/sh", "-c", "touch \(gate).started; while [ ! -e \(gate) ]; do sleep 0.05; done"]
                timeout: 2m
            """)
    }

    /// Whether a run has begun.
    var hasStarted: Bool { FileManager.default.fileExists(atPath: started) }
    func open() { _ = FileManager.default.createFile(atPath: gate, contents: nil) }
    func remove() {
        try? FileManager.default.removeItem(atPath: gate)
        try? FileManager.default.removeItem(atPath: started)
    }
}

/// The broker's process id for the worker connection named `name` (`warren-worker-consume` or
/// `-publish`) in `vhost`, for `rabbitmqctl close_connection`; waits until it is there.
func workerConnection(_ name: String, in vhost: TestVirtualHost) async throws -> String {
    var found: Substring?
    try await waitUntil("the worker's \(name) connection") {
        let listing = try await brokerCtl(["list_connections", "-q", "--no-table-headers", "pid", "vhost", "client_properties"])
        found = listing.split(separator: "\n").first { $0.contains(vhost.name) && $0.contains(name) }
        return found != nil
    }
    return try #require(found?.split(whereSeparator: { $0 == "\t" }).first.map(String.init))
}

import Foundation
import Synchronization
import Testing
@testable import RabbitMQ
import func WarrenTestSupport.runProcess

/// The throwaway brokers started by `scripts/test` (see `scripts/broker`). The main broker is
/// shared by tests that run in parallel, each with its own queue names; the "chaos" broker is
/// restarted and has its connections force-closed by the serialized fault tests.
enum TestBroker {
    static let url = ProcessInfo.processInfo.environment["WARREN_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5673/"
    static let chaosURL = ProcessInfo.processInfo.environment["WARREN_TEST_CHAOS_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5683/"
    static let tlsURL = ProcessInfo.processInfo.environment["WARREN_TEST_AMQPS_URL"] ?? "amqps://guest:guest@localhost:5674/"
    static let tlsDirectory = ProcessInfo.processInfo.environment["WARREN_TEST_TLS_DIR"] ?? "/tmp/warren-broker/tls"
    static let script = ProcessInfo.processInfo.environment["WARREN_TEST_BROKER_SCRIPT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/broker").standardized.path

    /// The settings `scripts/test` starts the chaos broker with (see `scripts/broker`).
    static let chaosBrokerEnvironment = [
        "WARREN_BROKER_DIR": "/tmp/warren-chaos-broker",
        "WARREN_BROKER_PORT": "5683",
        "WARREN_BROKER_TLS_PORT": "5684",
        "WARREN_BROKER_DIST_PORT": "25683",
        "WARREN_BROKER_NODE": "warren-chaos",
    ]

    /// Runs `scripts/broker` with the chaos broker's settings (for `restart`).
    static func chaosBroker(_ arguments: [String]) async throws {
        let run = try await runProcess(script, arguments, environment: environment(chaos: true))
        guard run.status == 0 else { throw CTLError(arguments: arguments, output: "exit \(run.status): \(run.errors)") }
    }

    /// The test process's environment, with the chaos broker's settings when `chaos`.
    private static func environment(chaos: Bool) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if chaos {
            for (key, value) in chaosBrokerEnvironment { environment[key] = value }
        }
        return environment
    }

    /// A name no other test uses.
    static func unique(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8))"
    }

    static func connect(url: String = url, name: String = unique("conn"), heartbeat: Duration = .seconds(10),
                        reconnect: ReconnectPolicy = .init(initialDelay: .milliseconds(50), maximumDelay: .seconds(1)),
                        tls: TLSConfiguration = .init()) async throws -> Connection {
        var configuration = try ConnectionConfiguration(urls: url, heartbeat: heartbeat, connectionName: name)
        configuration.reconnect = reconnect
        configuration.tls = tls
        return try await Connection.open(configuration)
    }

    /// True when `error` is the broker's refusal with reply `code`, its `name` in the message.
    static func isBrokerError(_ error: any Error, _ code: UInt16, _ name: String) -> Bool {
        guard let error = error as? AMQPError else { return false }
        return error.replyCode == code && "\(error)".contains(name)
    }

    /// Runs `body` with a channel on a fresh connection and an auto-delete queue of its own named
    /// after `prefix`; closes the connection afterwards, also when `body` throws.
    static func withQueue(_ prefix: String, _ body: (Channel, String, Connection) async throws -> Void) async throws {
        let connection = try await connect()
        do {
            let channel = try await connection.openChannel()
            let queue = unique(prefix)
            try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: true))
            try await body(channel, queue, connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }

    /// Runs `rabbitmqctl` against the main broker, or the chaos broker with `chaos: true`.
    @discardableResult
    static func ctl(_ arguments: [String], chaos: Bool = false) async throws -> String {
        let run = try await runProcess(script, ["ctl"] + arguments, environment: environment(chaos: chaos))
        guard run.status == 0 else { throw CTLError(arguments: arguments, output: run.output + run.errors) }
        return run.output
    }

    /// A per-queue figure as `rabbitmqctl list_queues` reports it (`messages`,
    /// `messages_unacknowledged`, …) on the main broker; nil if the queue is not listed.
    static func queueCount(_ queue: String, _ column: String) async throws -> Int? {
        let listing = try await ctl(["list_queues", "name", column, "--no-table-headers", "-q"])
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2, fields[0] == queue { return Int(fields[1]) }
        }
        return nil
    }

    struct CTLError: Error, CustomStringConvertible {
        var arguments: [String]
        var output: String
        var description: String { "rabbitmqctl \(arguments.joined(separator: " ")) failed: \(output)" }
    }
}

/// Waits until `condition` holds, polling every 20 ms; fails the test after `timeout`.
func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(timeout) waiting for: \(what)")
    throw CancellationError()
}

/// Drains a consumer in a background task, keeping every delivery (and acking it when asked).
final class DeliveryCollector: Sendable {
    private final class Storage: Sendable {
        let deliveries = Mutex<[Delivery]>([])
        let ended = Mutex(false)
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    init(_ consumer: Consumer, autoAck: Bool = true) {
        let storage = self.storage
        task = Task {
            for await delivery in consumer {
                if autoAck { try? delivery.ack() }
                storage.deliveries.withLock { $0.append(delivery) }
            }
            storage.ended.withLock { $0 = true }
        }
    }

    /// True once the consumer's sequence has ended.
    var hasEnded: Bool { storage.ended.withLock { $0 } }

    var deliveries: [Delivery] { storage.deliveries.withLock { $0 } }
    var count: Int { storage.deliveries.withLock { $0.count } }
    var bodies: [String] { deliveries.map { String(decoding: $0.body, as: UTF8.self) } }

    /// Waits until at least `count` deliveries arrived.
    func wait(for count: Int, timeout: Duration = .seconds(10)) async throws {
        try await waitUntil("\(count) deliveries (have \(self.count))", timeout: timeout) { self.count >= count }
    }

    /// Waits for the consumer's sequence to end.
    func waitForEnd(timeout: Duration = .seconds(10)) async throws {
        try await waitUntil("consumer sequence to end", timeout: timeout) { self.hasEnded }
    }

    func stop() { task.cancel() }
}

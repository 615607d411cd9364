import Foundation
import RabbitMQ
import Synchronization
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport

/// Services started before the broker answers (a compose file or a reboot starting everything at
/// once) wait for it; the broker "comes up" when a forwarder to the test broker starts listening.
@Suite("broker not reachable at start (real binaries, real broker behind a forwarder)")
struct BrokerAtStartTests {
    /// The failures `openWhenReachable` reported.
    private final class Failures: Sendable {
        private let list = Mutex<[AMQPError]>([])
        func append(_ error: AMQPError) { list.withLock { $0.append(error) } }
        var all: [AMQPError] { list.withLock { $0 } }
    }

    @Test("the client waits for a broker that is not listening yet, and fails at once on refused credentials")
    func clientWaits() async throws {
        let port = TestPorts.free()
        var configuration = try ConnectionConfiguration(urls: TCPForwarder.url(testBrokerURL, port: port), connectionName: "test-reachable")
        configuration.reconnect = ReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200))
        configuration.logger.logLevel = .critical
        let failures = Failures()
        let settings = configuration
        let opening = Task { try await Connection.openWhenReachable(settings) { error, _, _ in failures.append(error) } }
        try await waitUntil("two refused attempts") { failures.all.count >= 2 }
        let forwarder = try TCPForwarder(port: port)
        defer { forwarder.stop() }
        let connection = try await opening.value
        #expect(connection.isConnected)
        #expect(failures.all.allSatisfy { if case .connectionFailed = $0 { true } else { false } }, "\(failures.all)")
        await connection.close()

        var components = try #require(URLComponents(string: testBrokerURL))
        components.password = "wrong"
        var refused = try ConnectionConfiguration(urls: try #require(components.string), connectionName: "test-refused")
        refused.logger.logLevel = .critical
        let retried = Failures()
        do {
            _ = try await Connection.openWhenReachable(refused) { error, _, _ in retried.append(error) }
            Issue.record("connected with a wrong password")
        } catch let error as AMQPError {
            guard case .accessRefused = error else { Issue.record("expected accessRefused, got \(error)"); return }
        }
        #expect(retried.all.isEmpty, "refused credentials are not retried")
    }

    @Test("a worker and a backend started before the broker answers wait for it, then run a task and store its result")
    func servicesWait() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let port = TestPorts.free()
        var environment = harness.environment
        environment["WARREN_AMQP_URL"] = TCPForwarder.url(harness.vhost.url, port: port)
        let queue = "test.early.\(UUID().uuidString.prefix(8))"
        let backend = try WarrenProcess(["backend", "--log-level", "info", "--http", "off"], environment: environment)
        let worker = try WarrenProcess(["worker", "--queue", queue, "--log-level", "info"], environment: environment)
        let waiting = "broker unreachable; trying again until it answers"
        try await waitUntil("both waiting for the broker") { backend.output.contains(waiting) && worker.output.contains(waiting) }
        #expect(backend.isRunning && worker.isRunning)
        #expect(worker.output.components(separatedBy: waiting).count == 2, "one line while waiting, not one per attempt")

        let forwarder = try TCPForwarder(port: port)
        defer { forwarder.stop() }
        try await waitUntil("the worker's queue declared") { try await harness.vhost.depth(of: queue) != nil }
        let message = TaskMessage(task: "warren.echo", args: .object(["n": .integer(7)]), queue: queue)
        for outcome in await harness.publisher.publishBatch([message.outgoing()]) { try outcome.get() }
        try await harness.waitForCounts(tasks: 1, attempts: 1)
        let stored = try #require(try await harness.store.latest(of: message.id))
        #expect(stored.status == .succeeded)
        #expect(stored.result == .object(["n": .integer(7)]))

        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        #expect(try await backend.wait().status == 0)
        await harness.close()
    }

    @Test("a worker waiting for the broker stops on SIGTERM with exit 0")
    func stopsWhileWaiting() async throws {
        let url = TCPForwarder.url(testBrokerURL, port: TestPorts.free())
        let worker = try WarrenProcess(["worker", "--queue", "test.never", "--log-level", "info"], environment: ["WARREN_AMQP_URL": url])
        try await waitUntil("waiting for the broker") { worker.output.contains("broker unreachable") }
        worker.signal(SIGTERM)
        let exit = try await worker.wait(timeout: .seconds(10))
        #expect(exit.status == 0, "\(exit.output)")
    }
}

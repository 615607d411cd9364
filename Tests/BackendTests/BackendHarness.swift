import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenMessaging
import WarrenStore
import WarrenTestSupport

/// A virtual host of the test's own (so its backend takes only its results), a fresh store, and
/// a publishing connection for results and raw messages.
final class BackendHarness: Sendable {
    let vhost: TestVirtualHost
    let fixture: StoreFixture
    let connection: Connection
    let publisher: Channel

    var store: any ResultStore { fixture.store }

    static func make(_ kind: StoreKind, directory: URL? = nil) async throws -> BackendHarness {
        let vhost = try await TestVirtualHost.create()
        let fixture = try await StoreFixture.make(kind, directory: directory)
        var configuration = try ConnectionConfiguration(urls: vhost.url, connectionName: "test-backend")
        configuration.logger.logLevel = .error
        let connection = try await Connection.open(configuration)
        let setup = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareShared(on: setup, queueType: .classic)
        try? await setup.close()
        return BackendHarness(vhost: vhost, fixture: fixture, connection: connection, publisher: try await connection.openChannel(confirms: true))
    }

    private init(vhost: TestVirtualHost, fixture: StoreFixture, connection: Connection, publisher: Channel) {
        self.vhost = vhost
        self.fixture = fixture
        self.connection = connection
        self.publisher = publisher
    }

    /// The environment of every `warren` process of this test.
    var environment: [String: String] { ["WARREN_AMQP_URL": vhost.url, "WARREN_STORE": fixture.argument] }

    /// Starts `warren backend`; without `--http` among `arguments`, its HTTP server is off (tests
    /// run in parallel and would contend for the default port).
    func startBackend(_ arguments: [String] = []) throws -> WarrenProcess {
        let http = arguments.contains("--http") ? [] : ["--http", "off"]
        return try WarrenProcess(["backend", "--log-level", "info"] + http + arguments, environment: environment)
    }

    func warren(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await runWarren(arguments, environment: environment)
    }

    /// Publishes results as workers do, with confirms, in windows of 1000.
    func publish(_ results: [TaskResult]) async throws {
        var start = 0
        while start < results.count {
            let window = results[start..<min(start + 1000, results.count)]
            let outcomes = await publisher.publishBatch(try window.map { try $0.outgoing() })
            for outcome in outcomes { try outcome.get() }
            start += 1000
        }
    }

    /// Publishes any body to the results exchange.
    func publishRaw(_ body: Data, properties: BasicProperties = BasicProperties(deliveryMode: 2)) async throws {
        try await publisher.publish(body, exchange: WireNames.resultsExchange, routingKey: "", properties: properties)
    }

    func counts() async throws -> StoredCounts { try await store.counts() }

    /// Waits until the store holds `tasks` task ids and `attempts` attempts.
    /// On a timeout, `backend` (when given) has its output recorded, beside the last read.
    func waitForCounts(tasks: Int, attempts: Int, timeout: Duration = .seconds(60), backend: WarrenProcess? = nil) async throws {
        var last = "no read yet"
        do {
            try await waitUntil("\(tasks) tasks and \(attempts) attempts stored", timeout: timeout) {
                // A failed read (a store connection a test closed) is read again, until the deadline.
                do {
                    let read = try await self.counts()
                    last = "\(read.tasks) tasks and \(read.attempts) attempts"
                    return read == StoredCounts(tasks: tasks, attempts: attempts)
                } catch {
                    last = "the read failed: \(error)"
                    return false
                }
            }
        } catch {
            Issue.record("last read: \(last)")
            if let backend { Issue.record("the backend's output:\n\(backend.output.suffix(6000))") }
            throw error
        }
    }

    func close() async {
        await connection.close()
        await fixture.close()
        vhost.delete()
    }
}

/// `count` results for distinct ids `PREFIX-0…`, finished a minute ago.
func sampleResults(_ prefix: String, count: Int, task: String = "warren.echo") -> [TaskResult] {
    let finished = isoAgo(60)
    return (0..<count).map { makeResult("\(prefix)-\($0)", task: task, finishedAt: finished, durationMs: Int64($0 % 500)) }
}

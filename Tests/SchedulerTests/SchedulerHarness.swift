import Cron
import Foundation
import Logging
import RabbitMQ
import Synchronization
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport
@testable import WarrenScheduler

/// A test's schedule directory, task queue and view of what schedulers publish to it. The
/// scheduler's broker objects (lock, progress) are shared, so scheduler tests run one at a time.
final class SchedulerHarness: Sendable {
    let directory: String
    let queue: String
    /// Appended to schedule names written `NAME~`, so no run meets an earlier run's results.
    let suffix: String
    let connection: Connection
    private let collected = Mutex<[TaskMessage]>([])
    private let schedulers = Mutex<[Task<Void, any Error>]>([])
    private let processes = Mutex<[WarrenProcess]>([])

    private init(directory: String, queue: String, suffix: String, connection: Connection) {
        self.directory = directory
        self.queue = queue
        self.suffix = suffix
        self.connection = connection
    }

    /// Runs `body` with a fresh harness, then stops every scheduler it started and cleans up,
    /// whether `body` passed or not.
    static func with(_ files: [String: String], _ body: (SchedulerHarness) async throws -> Void) async throws {
        let harness = try await make(files)
        do {
            try await body(harness)
        } catch {
            await harness.close()
            throw error
        }
        await harness.close()
    }

    /// A fresh directory holding `files` (`QUEUE` in their text is replaced by the test's queue),
    /// a fresh queue being collected, and no scheduler progress left from earlier tests.
    private static func make(_ files: [String: String]) async throws -> SchedulerHarness {
        let id = UUID().uuidString.prefix(8).lowercased()
        let queue = "test.scheduler.\(id)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-schedules-\(id)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = try ConnectionConfiguration(urls: testBrokerURL, connectionName: "test-\(queue)")
        configuration.logger.logLevel = .warning
        let connection = try await Connection.open(configuration)
        let setup = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareShared(on: setup, queueType: .classic)
        try await WarrenTopology.declareTaskQueue(queue, options: TaskQueueOptions(), on: setup)
        try await setup.deleteQueue(SchedulerNames.progressQueue)
        let harness = SchedulerHarness(directory: directory, queue: queue, suffix: "-\(id)", connection: connection)
        for (name, text) in files { try harness.write(name, text) }
        let consumer = try await setup.consume(queue: queue)
        Task {
            for await delivery in consumer {
                try? delivery.ack()
                if let message = try? TaskMessage(delivery: delivery, queue: queue, maxPayload: 1 << 20) {
                    harness.collected.withLock { $0.append(message) }
                }
            }
        }
        return harness
    }

    /// Writes a schedule file (atomically, as an editor would).
    func write(_ name: String, _ text: String) throws {
        try text.replacingOccurrences(of: "QUEUE", with: queue).replacingOccurrences(of: "~", with: suffix).write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    /// Every task published to the queue so far, in arrival order.
    var messages: [TaskMessage] { collected.withLock { $0 } }

    /// Tasks of the schedule written `schedule~`.
    func messages(of schedule: String) -> [TaskMessage] { messages.filter { $0.schedule == schedule + suffix } }

    /// The task id of the fire of `schedule~` at `instant` (ISO-8601).
    func taskID(_ schedule: String, _ instant: String) -> String {
        Fire.taskID(schedule: schedule + suffix, scheduledFor: try! Timestamp.parse(instant, in: .utc))
    }

    /// Waits until `count` tasks of `schedule` arrived.
    func waitFor(_ count: Int, of schedule: String, timeout: Duration = .seconds(60)) async throws {
        try await waitUntil("\(count) fires of \(schedule) (have \(messages(of: schedule).count))", timeout: timeout) {
            self.messages(of: schedule).count >= count
        }
    }

    /// A scheduler on this directory, running in-process on `clock` until the task is cancelled.
    /// `logger` (by default one that prints errors only) receives the scheduler's log.
    func startScheduler(clock: any SchedulerClock, instance: String = "test", logger: Logger? = nil) async throws -> (Scheduler, Task<Void, any Error>) {
        var connection = try ConnectionConfiguration(urls: testBrokerURL)
        connection.logger.logLevel = .error
        var quiet = Logger(label: "test.scheduler")
        quiet.logLevel = .error
        let logger = logger ?? quiet
        var configuration = SchedulerConfiguration(connection: connection, schedulesDirectory: directory, instance: instance, logger: logger)
        configuration.clock = clock
        configuration.standbyRetry = .milliseconds(100)
        let scheduler = Scheduler(configuration: configuration)
        let task = Task { try await scheduler.run() }
        schedulers.withLock { $0.append(task) }
        try await waitUntil("the scheduler to become active") { scheduler.isActive }
        return (scheduler, task)
    }

    /// `warren scheduler` on this directory as a process of its own.
    func startProcess(instance: String, _ arguments: [String] = [], url: String = testBrokerURL) throws -> WarrenProcess {
        let process = try WarrenProcess(["scheduler", "--schedules", directory, "--instance", instance, "--standby-retry", "250ms"] + arguments,
                                        environment: ["WARREN_AMQP_URL": url])
        processes.withLock { $0.append(process) }
        return process
    }

    /// Cancels a scheduler and waits until its connection (and lock) is gone.
    func stop(_ task: Task<Void, any Error>) async throws {
        task.cancel()
        _ = try? await task.value
    }

    /// The progress record the last active scheduler wrote.
    func progress() async throws -> ProgressRecord? {
        try await SchedulerBroker.readProgress(on: connection)
    }

    private func close() async {
        for task in schedulers.withLock({ $0 }) { try? await stop(task) }
        for process in processes.withLock({ $0 }) where process.isRunning {
            process.signal(SIGKILL)
            _ = try? await process.wait(timeout: .seconds(10))
        }
        let channel = try? await connection.openChannel(confirms: false)
        _ = try? await channel?.deleteQueue(queue)
        await connection.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

import Foundation
import RabbitMQ
import Testing
import WarrenTestSupport
import WarrenCore
import WarrenMessaging

/// Expiry, priorities and bounded queues, through the real worker.
@Suite("expiry, priorities, bounded queues (real binary, real broker)")
struct QueueFeatureTests {
    @Test("a task past its expiry is not run and is recorded expired")
    func expired() async throws {
        let harness = try await WorkerHarness.make(queue: "expired")
        let stale = TaskMessage(task: "warren.fail", queue: harness.queue, expiresAt: Date().addingTimeInterval(-1)).outgoing()
        try await harness.publisher.publish(stale.body, exchange: stale.exchange, routingKey: stale.routingKey,
                                            properties: stale.properties, mandatory: true)
        let fresh = try await harness.publish("warren.echo")
        let worker = try harness.startWorker()
        let result = try await harness.finalResult(stale.properties.messageID!)
        #expect(result.status == .expired)
        #expect(result.error?.hasPrefix("expired at ") == true)
        #expect(result.startedAt == nil)
        #expect(try await harness.finalResult(fresh).status == .succeeded)
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("on a classic queue with priorities, higher priorities run first")
    func priorities() async throws {
        let harness = try await WorkerHarness.make(queue: "priority", options: TaskQueueOptions(maxPriority: 9))
        var ids: [Int: String] = [:]
        for priority in [1, 9, 5] {
            let message = TaskMessage(task: "warren.echo", queue: harness.queue, priority: priority).outgoing()
            try await harness.publisher.publish(message.body, exchange: message.exchange, routingKey: message.routingKey,
                                                properties: message.properties, mandatory: true)
            ids[priority] = message.properties.messageID
        }
        let worker = try harness.startWorker(["--concurrency", "1", "--prefetch", "1", "--max-priority", "9"])
        var order: [(Int, Date)] = []
        for (priority, id) in ids {
            let result = try await harness.finalResult(id)
            order.append((priority, try #require(result.startedAt.flatMap(TaskResult.parseTimestamp))))
        }
        #expect(order.sorted { $0.1 < $1.1 }.map(\.0) == [9, 5, 1])
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("--max-queue-length: a full queue refuses publishes instead of growing")
    func boundedQueue() async throws {
        let queue = "test.bounded.\(UUID().uuidString.prefix(8))"
        let worker = try WarrenProcess(["worker", "--queue", queue, "--max-queue-length", "2", "--max-tasks", "1", "--log-level", "warning"],
                                       environment: ["WARREN_AMQP_URL": WorkerHarness.url])
        try await waitUntil("the bounded queue declared") { try await TestCounts.queue(queue, "messages") != nil }
        worker.signal(SIGKILL)
        _ = try await worker.wait()
        var configuration = try ConnectionConfiguration(urls: WorkerHarness.url, connectionName: "bounded")
        configuration.logger.logLevel = .error
        let connection = try await Connection.open(configuration)
        let channel = try await connection.openChannel(confirms: true)
        var outcomes: [Bool] = []
        for _ in 0..<3 {
            let message = TaskMessage(task: "warren.echo", queue: queue).outgoing()
            do {
                try await channel.publish(message.body, exchange: message.exchange, routingKey: message.routingKey,
                                          properties: message.properties, mandatory: true)
                outcomes.append(true)
            } catch AMQPError.publishNacked {
                outcomes.append(false)
            }
        }
        #expect(outcomes == [true, true, false])
        let publish = try await WarrenProcess(["publish", "warren.echo", "--queue", queue], environment: ["WARREN_AMQP_URL": WorkerHarness.url]).wait()
        #expect(publish.status == 1)
        #expect(publish.output.hasPrefix("warren publish: "))
        _ = try await channel.deleteQueue(queue)
        await connection.close()
    }
}

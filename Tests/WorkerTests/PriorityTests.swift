import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport

/// Priorities are opt-in per queue: only the queues that ask for them pay for them.
@Suite("Queue priorities", .serialized)
struct PriorityTests {
    /// The queue's `x-max-priority` as `rabbitmqctl list_queues` shows it; nil without one.
    static func maxPriority(_ queue: String) async throws -> Int? {
        let listing = try await brokerCtl(["list_queues", "name", "arguments", "--no-table-headers", "-q"])
        guard let line = listing.split(separator: "\n").first(where: { $0.hasPrefix("\(queue)\t") || $0.hasPrefix("\(queue) ") }) else {
            throw QueueNotListed(queue: queue, listing: listing)
        }
        guard let range = line.range(of: #""x-max-priority",\d+"#, options: .regularExpression) else { return nil }
        return Int(line[range].split(separator: ",")[1])
    }

    struct QueueNotListed: Error { let queue: String; let listing: String }

    @Test("a worker without --max-priority declares a queue without priorities, and runs its tasks")
    func plainByDefault() async throws {
        let queue = "test.plain.\(UUID().uuidString.prefix(8))"
        let environment = ["WARREN_AMQP_URL": WorkerHarness.url]
        let worker = try WarrenProcess(["worker", "--queue", queue, "--max-tasks", "1", "--log-level", "notice"], environment: environment)
        try await waitUntil("the queue declared") { try await TestCounts.queue(queue, "messages") != nil }
        #expect(try await Self.maxPriority(queue) == nil)
        let published = try await runWarren(["publish", "warren.echo", "--queue", queue, "--wait"], environment: environment)
        #expect(published.status == 0, "\(published.stderr)")
        let exit = try await worker.wait(timeout: .seconds(30))
        #expect(exit.status == 0, "\(exit.output)")
        #expect(!exit.output.contains("priorities"), "\(exit.output)")
        _ = try await brokerCtl(["delete_queue", queue])
    }

    @Test("a queue with priorities 0-9 from an earlier Warren is used as it is, with one notice")
    func earlierQueueKept() async throws {
        let harness = try await WorkerHarness.make(queue: "earlier", options: TaskQueueOptions(maxPriority: TaskQueueOptions.legacyMaxPriority))
        let message = TaskMessage(task: "warren.echo", queue: harness.queue).outgoing()
        try await harness.publisher.publish(message.body, exchange: message.exchange, routingKey: message.routingKey,
                                            properties: message.properties, mandatory: true)
        let worker = try WarrenProcess(["worker", "--queue", harness.queue, "--max-tasks", "1", "--log-level", "notice"],
                                       environment: ["WARREN_AMQP_URL": harness.url])
        #expect(try await harness.finalResult(try #require(message.properties.messageID)).status == .succeeded)
        let exit = try await worker.wait(timeout: .seconds(30))
        #expect(exit.status == 0, "\(exit.output)")
        let notices = exit.output.split(separator: "\n").filter { $0.contains("queue has priorities 0-9 from an earlier declaration") }
        #expect(notices.count == 1, "\(exit.output)")
        #expect(notices.first?.contains(harness.queue) == true)
        #expect(try await Self.maxPriority(harness.queue) == 9)
        await harness.close()
    }

    @Test("--max-priority that contradicts the queue stops the worker at start, naming the queue and the argument")
    func contradictionRefused() async throws {
        let harness = try await WorkerHarness.make(queue: "contradicted")
        let worker = try WarrenProcess(["worker", "--queue", harness.queue, "--max-priority", "5", "--log-level", "warning"],
                                       environment: ["WARREN_AMQP_URL": harness.url])
        let exit = try await worker.wait(timeout: .seconds(30))
        #expect(exit.status == 1, "\(exit.output)")
        let line = exit.output.split(separator: "\n").first { $0.hasPrefix("warren worker: ") }
        #expect(line?.hasPrefix("warren worker: queue \(harness.queue) exists with other arguments than this process declares it with (queue type classic): run with the --max-priority the queue has; RabbitMQ cannot change an existing queue's priorities (docs/operations.md, \"Changing a task queue's arguments\") (broker: ") == true, "\(exit.output)")
        #expect(line?.contains("x-max-priority") == true)
        #expect(try await Self.maxPriority(harness.queue) == nil)
        await harness.close()
    }

    @Test("--max-priority out of range, or with quorum queues, is a usage error")
    func badFlag() async throws {
        for (arguments, expected) in [
            (["--max-priority", "0"], "warren: --max-priority: expected 1 to 9, got 0\n"),
            (["--max-priority", "10"], "warren: --max-priority: expected 1 to 9, got 10\n"),
            (["--max-priority", "3", "--queue-type", "quorum"],
             "warren: --max-priority: quorum queues have no priorities in RabbitMQ 3.10-3.13; drop it or run with --queue-type classic\n"),
            (["--max-queue-length", "0"], "warren: --max-queue-length: expected a positive number, got 0\n"),
        ] {
            let run = try await runWarren(["worker", "--queue", "never.declared"] + arguments, environment: ["WARREN_AMQP_URL": WorkerHarness.url])
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stderr.hasPrefix(expected), "\(arguments): \(run.stderr)")
        }
    }

    @Test("a publish with a priority creates a missing queue with priorities 0-9; one without, a queue without")
    func publisherCreates() async throws {
        let environment = ["WARREN_AMQP_URL": WorkerHarness.url]
        let (urgent, plain) = ("test.urgent.\(UUID().uuidString.prefix(8))", "test.unranked.\(UUID().uuidString.prefix(8))")
        #expect(try await runWarren(["publish", "warren.echo", "--queue", urgent, "--priority", "5"], environment: environment).status == 0)
        #expect(try await runWarren(["publish", "warren.echo", "--queue", plain, "--priority", "0"], environment: environment).status == 0)
        #expect(try await Self.maxPriority(urgent) == 9)
        #expect(try await Self.maxPriority(plain) == nil)
        // A later priority does not contradict the queue that exists.
        #expect(try await runWarren(["publish", "warren.echo", "--queue", plain, "--priority", "7"], environment: environment).status == 0)
        #expect(try await TestCounts.queue(plain, "messages") == 2)
        for queue in [urgent, plain] { _ = try await brokerCtl(["delete_queue", queue]) }
    }
}

import Foundation
import Testing
@testable import RabbitMQ

@Suite("Broker errors are typed, carry reply codes, and never cost the channel")
struct BrokerErrorTests {
    @Test("an inequivalent re-declare fails with 406 and the channel is reopened")
    func inequivalentDeclare() async throws {
        try await TestBroker.withQueue("inequivalent") { channel, queue, connection in
            await #expect("re-declaring with other arguments must fail") {
                try await channel.declare(QueueSpec(name: queue, durable: true))
            } throws: { TestBroker.isBrokerError($0, 406, "PRECONDITION_FAILED") }
            // The same channel keeps working: declare, publish with confirm, read back.
            let other = TestBroker.unique("after406")
            try await channel.declare(QueueSpec(name: other, durable: false, autoDelete: true))
            try await channel.publish(Data("still here".utf8), routingKey: other)
            try await waitUntil("message counted") { try await channel.inspectQueue(other).messageCount == 1 }
            #expect(connection.reconnectCount == 0)
        }
    }

    @Test("a mandatory publish that no queue takes is returned with 312 NO_ROUTE")
    func mandatoryReturned() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let key = TestBroker.unique("nowhere")
        do {
            try await channel.publish(Data("x".utf8), exchange: "amq.direct", routingKey: key, mandatory: true)
            Issue.record("mandatory publish to nowhere must be returned")
        } catch let error as AMQPError {
            #expect(error == .returned(code: 312, text: "NO_ROUTE", exchange: "amq.direct", routingKey: key))
        }
        // Without mandatory the broker confirms it (and drops it).
        try await channel.publish(Data("x".utf8), exchange: "amq.direct", routingKey: key)
    }

    @Test("a publish to a full reject-publish queue is nacked; earlier ones are confirmed")
    func nacked() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("full")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false,
                                            arguments: QueueArguments(maxLength: 1, overflow: .rejectPublish)))
        defer { Task { try? await channel.deleteQueue(queue) } }
        try await channel.publish(Data("first".utf8), routingKey: queue)
        await #expect(throws: AMQPError.publishNacked) {
            try await channel.publish(Data("second".utf8), routingKey: queue)
        }
        #expect(try await channel.inspectQueue(queue).messageCount == 1)
    }

    @Test("publishing to a missing exchange fails with 404; the channel works afterwards")
    func missingExchange() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        await #expect("publish to a missing exchange must fail") {
            try await channel.publish(Data("x".utf8), exchange: TestBroker.unique("missing-exchange"), routingKey: "k")
        } throws: { TestBroker.isBrokerError($0, 404, "NOT_FOUND") }
        let queue = TestBroker.unique("after404")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: true))
        try await channel.publish(Data("ok".utf8), routingKey: queue)
    }

    @Test("passive declare returns counts, and 404 for a missing queue")
    func passive() async throws {
        try await TestBroker.withQueue("passive") { channel, queue, _ in
            for index in 0..<3 { try await channel.publish(Data("\(index)".utf8), routingKey: queue) }
            let state = try await channel.inspectQueue(queue)
            #expect(state == QueueState(name: queue, messageCount: 3, consumerCount: 0))
            await #expect {
                try await channel.inspectQueue(TestBroker.unique("absent"))
            } throws: { TestBroker.isBrokerError($0, 404, "NOT_FOUND") }
            #expect(try await channel.purgeQueue(queue) == 3)
        }
    }

    @Test("typed queue arguments reach the broker (dead-lettering on TTL expiry)")
    func deadLetterAndTTL() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let exchange = TestBroker.unique("dlx")
        let dead = TestBroker.unique("dead")
        let waiting = TestBroker.unique("ttl")
        try await channel.declare(ExchangeSpec(name: exchange, kind: .direct, durable: false, autoDelete: true))
        try await channel.declare(QueueSpec(name: dead, durable: false, autoDelete: true))
        try await channel.bind(QueueBinding(queue: dead, exchange: exchange, routingKey: "expired"))
        try await channel.declare(QueueSpec(name: waiting, durable: false, autoDelete: false, arguments: QueueArguments(
            deadLetterExchange: exchange, deadLetterRoutingKey: "expired", messageTTL: .milliseconds(50),
            maxPriority: 9, extra: ["x-custom": "kept"])))
        defer { Task { try? await channel.deleteQueue(waiting) } }
        try await channel.publish(Data("late".utf8), routingKey: waiting, properties: BasicProperties(priority: 7))
        let consumer = try await channel.consume(queue: dead)
        let collector = DeliveryCollector(consumer)
        try await collector.wait(for: 1)
        #expect(collector.bodies == ["late"])
        let death = collector.deliveries[0].properties.headers?["x-death"]
        guard case .array(let entries)? = death, case .table(let first)? = entries.first else {
            Issue.record("expected an x-death header, got \(String(describing: death))")
            return
        }
        #expect(first["reason"]?.stringValue == "expired")
        #expect(first["queue"]?.stringValue == waiting)
        collector.stop()
    }

    @Test("wrong credentials are refused with a clear error and no retry loop")
    func accessRefused() async throws {
        let url = TestBroker.url.replacingOccurrences(of: "guest:guest@", with: "guest:wrong-password@")
        do {
            _ = try await TestBroker.connect(url: url)
            Issue.record("login with a wrong password must fail")
        } catch let error as AMQPError {
            guard case .accessRefused(let endpoint, let text) = error else {
                Issue.record("expected accessRefused, got \(error)")
                return
            }
            #expect(text.contains("403"))
            #expect(!endpoint.contains("wrong-password"))
            #expect(!"\(error)".contains("wrong-password"))
        }
    }

    @Test("an unreachable endpoint fails within the connect timeout; a URL list falls through to a good one")
    func failover() async throws {
        do {
            _ = try await TestBroker.connect(url: "amqp://guest:guest@127.0.0.1:1/")
            Issue.record("port 1 must refuse")
        } catch let error as AMQPError {
            guard case .connectionFailed = error else { Issue.record("expected connectionFailed, got \(error)"); return }
            // The system's reason, not librabbitmq's "a socket error occurred".
            #expect(error.description == "cannot connect to amqp://guest:***@127.0.0.1:1/: connection refused")
        }
        let connection = try await TestBroker.connect(url: "amqp://guest:guest@127.0.0.1:1/,\(TestBroker.url)")
        defer { Task { await connection.close() } }
        #expect(connection.endpoint?.port == (try Endpoint(url: TestBroker.url)).port)
    }

    @Test("a replica not yet running on the local node is told apart: it clears by itself, and says so")
    func brokerNotReadyYet() {
        let notReady = AMQPError.channelClosed(code: 406, text: "PRECONDITION_FAILED - queue 'warren.cancellations' in vhost 'v' does not have a replica on the local node")
        #expect(notReady.isBrokerNotReadyYet)
        #expect(notReady.description.hasSuffix("(the queue was just created and its replica on this node is not running yet; this clears by itself)"))
        let inequivalent = AMQPError.channelClosed(code: 406, text: "PRECONDITION_FAILED - inequivalent arg 'x-max-priority'")
        #expect(!inequivalent.isBrokerNotReadyYet)
        #expect(inequivalent.description.contains("redeclared with different arguments"))
    }
}

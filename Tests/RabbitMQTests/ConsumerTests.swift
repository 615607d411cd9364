import Foundation
import Synchronization
import Testing
@testable import RabbitMQ

@Suite("Consumers: prefetch, acks, cancellation, heartbeats")
struct ConsumerTests {
    @Test("prefetch bounds unacknowledged deliveries; acking releases more")
    func prefetch() async throws {
        try await TestBroker.withQueue("prefetch") { channel, queue, _ in
            for index in 0..<20 { try await channel.publish(Data("\(index)".utf8), routingKey: queue) }
            try await channel.setPrefetch(5)
            let consumer = try await channel.consume(queue: queue)
            let collector = DeliveryCollector(consumer, autoAck: false)
            try await collector.wait(for: 5)
            // Give the broker a chance to overstep the limit, then check it did not.
            try await waitUntil("broker reports 15 ready") { try await channel.inspectQueue(queue).messageCount == 15 }
            #expect(collector.count == 5)
            for delivery in collector.deliveries { try delivery.ack() }
            try await collector.wait(for: 10)
            for delivery in collector.deliveries.dropFirst(5) { try delivery.ack() }
            try await collector.wait(for: 15)
            #expect(collector.bodies.prefix(15) == (0..<15).map(String.init)[...])
            collector.stop()
        }
    }

    @Test("acks given just before closing the channel reach the broker first; the connection survives", arguments: 0..<20)
    func ackThenClose(round: Int) async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let setup = try await connection.openChannel()
        let queue = TestBroker.unique("ack-close")
        try await setup.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        for index in 0..<10 { try await setup.publish(Data("\(index)".utf8), routingKey: queue) }
        let channel = try await connection.openChannel()
        try await channel.setPrefetch(100)
        let consumer = try await channel.consume(queue: queue)
        var received = 0
        for await delivery in consumer {
            try delivery.ack()
            received += 1
            if received == 10 { break }
        }
        try await channel.close()
        // Every ack arrived before the close (nothing returned to the queue), and the connection
        // still works (an ack after the close would have cost it a 504).
        #expect(try await setup.inspectQueue(queue).messageCount == 0)
        #expect(connection.isConnected && connection.reconnectCount == 0)
        _ = try await setup.deleteQueue(queue)
    }

    @Test("acks coalesce: 5000 acked deliveries leave nothing unacked, in order")
    func manyAcks() async throws {
        try await TestBroker.withQueue("acks") { publisher, queue, connection in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<5000 {
                    group.addTask { try await publisher.publish(Data("\(index)".utf8), routingKey: queue) }
                }
                try await group.waitForAll()
            }
            let channel = try await connection.openChannel(confirms: false)
            try await channel.setPrefetch(100)
            let collector = DeliveryCollector(try await channel.consume(queue: queue))
            try await collector.wait(for: 5000, timeout: .seconds(30))
            let tags = collector.deliveries.map(\.deliveryTag)
            #expect(tags == Array(1...5000))
            try await waitUntil("queue empty and nothing unacked") {
                try await TestBroker.queueCount(queue, "messages") == 0
            }
            #expect(connection.reconnectCount == 0)
            collector.stop()
        }
    }

    @Test("a few acks well below the prefetch reach the broker at once, not at the next heartbeat")
    func loneAcksFlushPromptly() async throws {
        let connection = try await TestBroker.connect(heartbeat: .seconds(30))
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("lone-acks")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: true))
        try await channel.setPrefetch(1000)
        for index in 0..<3 { try await channel.publish(Data("\(index)".utf8), routingKey: queue) }
        let collector = DeliveryCollector(try await channel.consume(queue: queue))
        try await collector.wait(for: 3)
        try await waitUntil("broker saw the acks", timeout: .seconds(2)) {
            try await TestBroker.queueCount(queue, "messages_unacknowledged") == 0
        }
        collector.stop()
    }

    @Test("acks behind a held delivery wait only briefly for it: the others keep flowing at a small prefetch",
          .timeLimit(.minutes(3)))
    func acksBehindAHeldDelivery() async throws {
        try await TestBroker.withQueue("held-head") { channel, queue, _ in
            try await channel.setPrefetch(4)
            for index in 0..<40 { try await channel.publish(Data("\(index)".utf8), routingKey: queue) }
            let consumer = try await channel.consume(queue: queue)
            var held: Delivery?
            var bodies: [String] = []
            // The first delivery stays unacked throughout; the 39 behind it can only all arrive
            // through a window of 4 if their acks reach the broker without waiting for it.
            for await delivery in consumer {
                bodies.append(String(decoding: delivery.body, as: UTF8.self))
                if held == nil { held = delivery } else { try delivery.ack() }
                if bodies.count == 40 { break }
            }
            #expect(bodies == (0..<40).map(String.init))
            try await waitUntil("only the held delivery unacked") {
                try await TestBroker.queueCount(queue, "messages_unacknowledged") == 1
            }
            try held?.ack()
            try await waitUntil("nothing unacked") { try await TestBroker.queueCount(queue, "messages_unacknowledged") == 0 }
        }
    }

    @Test("batch acks with ack(multiple:) at a small prefetch keep deliveries flowing")
    func multipleAcks() async throws {
        try await TestBroker.withQueue("multiple") { channel, queue, _ in
            for index in 0..<300 { try await channel.publish(Data("\(index)".utf8), routingKey: queue) }
            try await channel.setPrefetch(10)
            let consumer = try await channel.consume(queue: queue)
            var received: [String] = []
            for await batch in consumer.batches {
                #expect(batch.count <= 10)
                received += batch.map { String(decoding: $0.body, as: UTF8.self) }
                try batch.last?.ack(multiple: true)
                if received.count == 300 { break }
            }
            #expect(received == (0..<300).map(String.init))
            try await waitUntil("queue drained") { try await channel.inspectQueue(queue).messageCount == 0 }
        }
    }

    @Test("deleting the queue cancels the consumer: the sequence ends cleanly")
    func cancelledByBroker() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("deleted")
        try await channel.declare(QueueSpec(name: queue, durable: false))
        let collector = DeliveryCollector(try await channel.consume(queue: queue))
        try await channel.publish(Data("one".utf8), routingKey: queue)
        try await collector.wait(for: 1)
        let other = try await connection.openChannel()
        try await other.deleteQueue(queue)
        try await collector.waitForEnd()
        #expect(collector.bodies == ["one"])
        // The channel survives the cancel.
        let next = TestBroker.unique("after-cancel")
        try await channel.declare(QueueSpec(name: next, durable: false, autoDelete: true))
    }

    @Test("cancelling from the client ends the sequence; unacked deliveries go back to the queue")
    func cancelledByClient() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("client-cancel")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await channel.deleteQueue(queue) } }
        try await channel.publish(Data("kept".utf8), routingKey: queue)
        let consumer = try await channel.consume(queue: queue)
        let collector = DeliveryCollector(consumer, autoAck: false)
        try await collector.wait(for: 1)
        try await consumer.cancel()
        try await collector.waitForEnd()
        try collector.deliveries[0].nack(requeue: true)
        try await waitUntil("message requeued") { try await channel.inspectQueue(queue).messageCount == 1 }
        #expect(try await channel.inspectQueue(queue).consumerCount == 0)
    }

    @Test("a stream consumer given up while deliveries are in flight does not cost the connection (a stream refuses reject with 540)",
          arguments: 0..<3)
    func streamConsumerGivenUp(round: Int) async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let lost = Mutex<String?>(nil)
        let watching = Task {
            for await event in connection.events {
                if case .disconnected(let error) = event { lost.withLock { $0 = "\(error)" } }
            }
        }
        defer { watching.cancel() }
        let setup = try await connection.openChannel(confirms: true)
        let stream = TestBroker.unique("stream-given-up")
        _ = try await setup.declare(QueueSpec(name: stream, arguments: QueueArguments(type: .stream)))
        defer { Task { try? await setup.deleteQueue(stream) } }
        let body = Data(repeating: UInt8(ascii: "x"), count: 2000)
        for _ in 0..<4 {
            let outcomes = await setup.publishBatch((0..<5000).map { _ in OutgoingMessage(body: body, routingKey: stream) })
            for outcome in outcomes { try outcome.get() }
        }
        let channel = try await connection.openChannel()
        try await channel.setPrefetch(100)
        let consumer = try await channel.consume(queue: stream, arguments: ["x-stream-offset": .string("first")])
        // Read and ack batches in a task, and cancel the task while the stream keeps delivering
        // (as a reader that has read what it needs does).
        let seen = Mutex(0)
        let reading = Task {
            for await batch in consumer.batches {
                try? batch.last?.ack(multiple: true)
                seen.withLock { $0 += 1 }
            }
        }
        try await waitUntil("a few batches read") { seen.withLock { $0 } >= 3 + round }
        reading.cancel()
        // The connection must still work: a declare and a publish after the deliveries that
        // arrived for the given-up consumer.
        try await Task.sleep(for: .milliseconds(300))
        let probe = TestBroker.unique("after-stream")
        try await setup.declare(QueueSpec(name: probe, durable: false, autoDelete: false))
        defer { Task { try? await setup.deleteQueue(probe) } }
        try await setup.publish(Data("still here".utf8), routingKey: probe)
        #expect(try await setup.inspectQueue(probe).messageCount == 1)
        #expect(lost.withLock { $0 } == nil, "the connection was lost")
    }

    // The limit leaves room for `rabbitmqctl`, which takes many seconds on a loaded machine.
    @Test("a delivery held unacked for more than ten heartbeat intervals does not cost the connection", .timeLimit(.minutes(3)))
    func heartbeatWhileHeld() async throws {
        let connection = try await TestBroker.connect(heartbeat: .seconds(1))
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("held")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await channel.deleteQueue(queue) } }
        try await channel.publish(Data("slow task".utf8), routingKey: queue)
        let collector = DeliveryCollector(try await channel.consume(queue: queue), autoAck: false)
        try await collector.wait(for: 1)
        // Twelve heartbeat intervals with no application traffic at all.
        try await Task.sleep(for: .seconds(12))
        #expect(connection.isConnected)
        #expect(connection.reconnectCount == 0)
        let delivery = collector.deliveries[0]
        try delivery.ack()
        collector.stop()
        // Closing the channel after the ack settles it: an ack that never reached the broker
        // would put the message back in the queue.
        try await channel.close()
        let check = try await connection.openChannel()
        defer { Task { try? await check.deleteQueue(queue) } }
        #expect(try await check.inspectQueue(queue).messageCount == 0)
        #expect(collector.count == 1, "a dropped connection would have redelivered the message")
        let heartbeat = try await TestBroker.ctl(["list_connections", "client_properties", "timeout", "--no-table-headers", "-q"])
        #expect(heartbeat.split(separator: "\n").contains { $0.contains(connection.name) && $0.hasSuffix("\t1") })
    }
}

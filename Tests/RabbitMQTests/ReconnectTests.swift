import Foundation
import Synchronization
import Testing
@testable import RabbitMQ

/// Fault tests on the chaos broker. Serialized: each one disturbs every connection to it.
@Suite("Reconnection after forced closes and broker restarts", .serialized)
struct ReconnectTests {
    func connect() async throws -> Connection {
        try await TestBroker.connect(url: TestBroker.chaosURL, heartbeat: .seconds(2))
    }

    @Test("after close_all_connections the client reconnects, re-declares topology and resumes consumers")
    func forcedClose() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        // Auto-delete: the broker deletes it when the consumer's connection goes, so consuming
        // again only works if the client re-declared it.
        let queue = TestBroker.unique("autodelete")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: true))
        try await channel.setPrefetch(10)
        let collector = DeliveryCollector(try await channel.consume(queue: queue))
        try await channel.publish(Data("before".utf8), routingKey: queue)
        try await collector.wait(for: 1)

        try await TestBroker.ctl(["close_all_connections", "test: forced close"], chaos: true)
        try await waitUntil("reconnected") { connection.reconnectCount == 1 && connection.isConnected }
        try await waitUntil("consumer back on the queue") {
            (try? await channel.inspectQueue(queue).consumerCount) == 1
        }
        try await channel.publish(Data("after".utf8), routingKey: queue)
        try await collector.wait(for: 2)
        #expect(collector.bodies == ["before", "after"])
        #expect(!collector.hasEnded)
        collector.stop()
    }

    @Test("an auto-delete queue whose consumer's channel was closed is not declared again after a reconnection")
    func closedAutoDeleteQueueStaysGone() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let kept = try await connection.openChannel()
        let waited = TestBroker.unique("waited")
        let waiting = try await connection.openChannel()
        try await waiting.declare(QueueSpec(name: waited, durable: false, exclusive: true, autoDelete: true))
        try await waiting.bind(QueueBinding(queue: waited, exchange: "amq.direct", routingKey: waited))
        let waitedConsumer = try await waiting.consume(queue: waited)
        try await waiting.close()
        // A queue still consumed stays recorded and comes back.
        let live = TestBroker.unique("live")
        try await kept.declare(QueueSpec(name: live, durable: false, exclusive: true, autoDelete: true))
        let liveConsumer = try await kept.consume(queue: live)

        try await TestBroker.ctl(["close_all_connections", "test: forced close"], chaos: true)
        try await waitUntil("reconnected") { connection.reconnectCount == 1 && connection.isConnected }
        try await waitUntil("the live queue back") { (try? await kept.inspectQueue(live).consumerCount) == 1 }
        let probe = try await connection.openChannel()
        await #expect(throws: AMQPError.self) { _ = try await probe.inspectQueue(waited) }
        withExtendedLifetime((waitedConsumer, liveConsumer)) {}
    }

    @Test("after a broker restart durable queues, their messages and consumers come back")
    func brokerRestart() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("durable")
        try await channel.declare(QueueSpec(name: queue, durable: true))
        defer { Task { try? await channel.deleteQueue(queue) } }
        try await channel.publish(Data("persisted".utf8), routingKey: queue, properties: .persistent)

        try await TestBroker.chaosBroker(["restart"])
        try await waitUntil("reconnected after restart", timeout: .seconds(30)) { connection.reconnectCount >= 1 && connection.isConnected }
        let collector = DeliveryCollector(try await channel.consume(queue: queue))
        try await collector.wait(for: 1)
        try await channel.publish(Data("fresh".utf8), routingKey: queue, properties: .persistent)
        try await collector.wait(for: 2)
        #expect(collector.bodies == ["persisted", "fresh"])
        collector.stop()
    }

    @Test("publishes in flight when the connection drops fail with connectionLost; none hangs", .timeLimit(.minutes(1)))
    func inFlightPublishesFail() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("inflight")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await channel.deleteQueue(queue) } }
        final class Tally: Sendable {
            let values = Mutex((ok: 0, lost: 0, other: [String]()))
        }
        let tally = Tally()
        // rabbitmqctl takes about a second to start: keep publishing until a drop is seen. A drop
        // that lands between two rounds of publishes loses nothing, so drop again until one does.
        final class Drops: Sendable {
            let finished = Mutex(0)
        }
        let drops = Drops()
        func dropConnections() -> Task<Void, Error> {
            Task {
                defer { drops.finished.withLock { $0 += 1 } }
                try await TestBroker.ctl(["close_all_connections", "test: drop mid-publish"], chaos: true)
            }
        }
        var drop = dropConnections()
        var dropsStarted = 1
        var published = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline && tally.values.withLock({ $0.lost }) == 0 {
            if drops.finished.withLock({ $0 }) == dropsStarted, connection.isConnected {
                _ = try await drop.value
                drop = dropConnections()
                dropsStarted += 1
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in published..<(published + 2000) {
                    group.addTask {
                        do {
                            try await channel.publish(Data("\(index)".utf8), routingKey: queue)
                            tally.values.withLock { $0.ok += 1 }
                        } catch AMQPError.connectionLost, AMQPError.notConnected {
                            tally.values.withLock { $0.lost += 1 }
                        } catch {
                            tally.values.withLock { $0.other.append("\(error)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            published += 2000
        }
        _ = try await drop.value
        let result = tally.values.withLock { $0 }
        #expect(result.ok + result.lost == published, "every publish call returned")
        #expect(result.lost > 0)
        #expect(result.other.isEmpty)
        try await waitUntil("reconnected") { connection.isConnected }
        // Every confirmed publish is in the queue; unconfirmed ones may or may not be.
        try await waitUntil("queue reachable again") { (try? await channel.inspectQueue(queue)) != nil }
        let stored = try await channel.inspectQueue(queue).messageCount
        #expect(stored >= result.ok)
        #expect(stored <= published)
    }

    @Test("a delivery from before a reconnect is never acked on the new connection")
    func staleDelivery() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("stale")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await channel.deleteQueue(queue) } }
        try await channel.publish(Data("m".utf8), routingKey: queue)
        let collector = DeliveryCollector(try await channel.consume(queue: queue), autoAck: false)
        try await collector.wait(for: 1)
        let old = collector.deliveries[0]
        try await TestBroker.ctl(["close_all_connections", "test: stale tags"], chaos: true)
        try await collector.wait(for: 2)  // redelivered on the new connection
        #expect(!old.isSettleable)
        #expect(throws: AMQPError.staleDelivery) { try old.ack() }
        let again = collector.deliveries[1]
        #expect(again.redelivered)
        #expect(again.deliveryTag == old.deliveryTag, "same tag number on the new channel: acking the old one would ack this one")
        try again.ack()
        try await waitUntil("acked") { try await channel.inspectQueue(queue).messageCount == 0 }
        #expect(connection.reconnectCount == 1)
        collector.stop()
    }

    @Test("connection.blocked pauses publishing until the broker unblocks", .timeLimit(.minutes(1)))
    func blocked() async throws {
        let connection = try await connect()
        // The broker stops reading a blocked connection, so look at the queue from another one.
        let observer = try await connect()
        defer { Task { await connection.close(); await observer.close() } }
        let channel = try await connection.openChannel()
        let look = try await observer.openChannel()
        let queue = TestBroker.unique("blocked")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await look.deleteQueue(queue) } }
        try await TestBroker.ctl(["set_vm_memory_high_watermark", "0.000001"], chaos: true)
        do {
            // The broker blocks a connection when it next publishes; this publish triggers it.
            let first = Task { try await channel.publish(Data("1".utf8), routingKey: queue) }
            try await waitUntil("client sees connection.blocked") { connection.isBlocked }
            let second = Task { try await channel.publish(Data("2".utf8), routingKey: queue) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await look.inspectQueue(queue).messageCount <= 1, "the second publish waited")
            try await TestBroker.ctl(["set_vm_memory_high_watermark", "0.4"], chaos: true)
            try await first.value
            try await second.value
            #expect(!connection.isBlocked)
            #expect(try await look.inspectQueue(queue).messageCount == 2)
            #expect(connection.reconnectCount == 0)
        } catch {
            _ = try? await TestBroker.ctl(["set_vm_memory_high_watermark", "0.4"], chaos: true)
            throw error
        }
    }
}

import Foundation
import Synchronization
import Testing
@testable import RabbitMQ
#if canImport(Glibc)
import Glibc
#endif

/// Faults between the client and the broker, made by a TCP proxy of the test's own in front of
/// the main broker: only the test's own connections are disturbed.
@Suite("Connection faults through a proxy", .serialized)
struct ConnectionFaultTests {
    static func port(of url: String) -> UInt16 {
        UInt16(URLComponents(string: url)?.port ?? 5672)
    }

    /// Cuts the client off (every connection dropped, new ones refused) until `body` returns.
    static func whileDisconnected(_ proxy: TCPProxy, _ connection: Connection, _ body: () async throws -> Void) async throws {
        proxy.refuse(true)
        proxy.dropLiveConnections()
        try await waitUntil("client sees the connection lost") { !connection.isConnected }
        do {
            try await body()
        } catch {
            proxy.refuse(false)
            throw error
        }
        proxy.refuse(false)
    }

    @Test("a declaration refused while restoring topology does not skip the ones after it")
    func restoreGoesOnPastARefusal() async throws {
        let proxy = try TCPProxy(targetPort: Self.port(of: TestBroker.url))
        defer { proxy.stop() }
        let connection = try await TestBroker.connect(url: proxy.url())
        let other = try await TestBroker.connect()
        defer { Task { await connection.close(); await other.close() } }
        let channel = try await connection.openChannel()
        let exchange = TestBroker.unique("restore-x")
        let before = TestBroker.unique("restore-before")
        let after = TestBroker.unique("restore-after")
        // Exclusive queues vanish with the connection: they exist again only if re-declared.
        try await channel.declare(QueueSpec(name: before, durable: false, exclusive: true))
        try await channel.declare(ExchangeSpec(name: exchange, kind: .direct, durable: false))
        try await channel.declare(QueueSpec(name: after, durable: false, exclusive: true))
        let look = try await other.openChannel()
        defer { Task { try? await look.deleteExchange(exchange) } }

        try await Self.whileDisconnected(proxy, connection) {
            // Meanwhile the exchange is declared differently: re-declaring it will be refused (406).
            try await look.deleteExchange(exchange)
            try await look.declare(ExchangeSpec(name: exchange, kind: .fanout, durable: false))
        }
        try await waitUntil("reconnected") { connection.reconnectCount == 1 && connection.isConnected }
        try await waitUntil("the queue declared after the refused exchange is restored") {
            (try? await channel.inspectQueue(after)) != nil
        }
        #expect((try? await channel.inspectQueue(before)) != nil)
        #expect(connection.reconnectCount == 1)
    }

    @Test("a heartbeat read together with a reply does not stall the connection's next command", .timeLimit(.minutes(1)))
    func heartbeatBehindAReply() async throws {
        let proxy = try TCPProxy(targetPort: Self.port(of: TestBroker.url))
        defer { proxy.stop() }
        // A long heartbeat: no heartbeat of the broker's own comes during the test.
        let connection = try await TestBroker.connect(url: proxy.url(), heartbeat: .seconds(60))
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("heartbeat-behind")
        try await channel.declare(QueueSpec(name: queue, durable: false, exclusive: true))
        for round in 1...3 {
            proxy.appendHeartbeatToNextReply()
            #expect(try await channel.inspectQueue(queue).messageCount == 0, "round \(round): the reply the heartbeat follows")
            // The next command must go out and its reply come back, though nothing else arrives.
            let done = Atomic<Bool>(false)
            let next = Task {
                defer { done.store(true, ordering: .sequentiallyConsistent) }
                return try await channel.inspectQueue(queue).messageCount
            }
            do {
                try await waitUntil("round \(round): the command after the heartbeat answered", timeout: .seconds(5)) {
                    done.load(ordering: .sequentiallyConsistent)
                }
            } catch {
                proxy.dropLiveConnections()  // frees the connection's thread, so the test can end
                _ = try? await next.value
                await connection.close()
                throw error
            }
            #expect(try await next.value == 0)
        }
        await connection.close()
    }

    @Test("a channel closed while disconnected is not reopened, and its number serves a new channel")
    func closedWhileDisconnected() async throws {
        let proxy = try TCPProxy(targetPort: Self.port(of: TestBroker.url))
        defer { proxy.stop() }
        let connection = try await TestBroker.connect(url: proxy.url())
        defer { Task { await connection.close() } }
        let kept = try await connection.openChannel()
        let closed = try await connection.openChannel()
        let queue = TestBroker.unique("closed-offline")
        try await kept.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await kept.deleteQueue(queue) } }

        try await Self.whileDisconnected(proxy, connection) {
            try await closed.close()
        }
        try await waitUntil("reconnected") { connection.reconnectCount == 1 && connection.isConnected }
        // Answered once the caller channels are open again.
        _ = try await kept.inspectQueue(queue)
        let fresh = try await connection.openChannel()
        #expect(fresh.number == closed.number)
        try await fresh.publish(Data("m".utf8), routingKey: queue)
        #expect(try await fresh.inspectQueue(queue).messageCount == 1)
        #expect(try await kept.inspectQueue(queue).messageCount == 1)
        #expect(connection.reconnectCount == 1, "no 504 from opening a channel the broker still had open")
    }

    @Test("acks of every channel are flushed after a failed ack write lost the connection", .timeLimit(.minutes(1)))
    func ackFlushAfterFailedWrite() async throws {
        // TLS: acks go out through librabbitmq one channel at a time, so a write can fail between
        // two channels' acks. The proxy does not pass on the client's end of output, so the
        // failed write is the first thing the client notices.
        let proxy = try TCPProxy(targetPort: Self.port(of: TestBroker.tlsURL))
        defer { proxy.stop() }
        proxy.propagateClose(false)
        let tls = TLSConfiguration(caCertificatePath: "\(TestBroker.tlsDirectory)/ca.pem")
        let connection = try await TestBroker.connect(url: proxy.url(scheme: "amqps", host: "localhost"), tls: tls)
        defer { Task { await connection.close() } }
        var channels: [Channel] = []
        var collectors: [DeliveryCollector] = []
        var queues: [String] = []
        for name in ["a", "b"] {
            let channel = try await connection.openChannel()
            let queue = TestBroker.unique("ackflush-\(name)")
            try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
            try await channel.setPrefetch(1)
            for index in 1...2 { try await channel.publish(Data("\(name)\(index)".utf8), routingKey: queue) }
            collectors.append(DeliveryCollector(try await channel.consume(queue: queue), autoAck: false))
            channels.append(channel)
            queues.append(queue)
        }
        let cleanup = zip(channels, queues).map { ($0, $1) }
        defer { Task { for (channel, queue) in cleanup { _ = try? await channel.deleteQueue(queue) } } }
        for collector in collectors { try await collector.wait(for: 1) }
        let sockets = proxy.clientSocketDescriptors()
        try #require(sockets.count == 1)

        proxy.refuse(true)
        // Between two turns of the I/O thread: the next turn takes both acks at once and writes
        // them to a socket that can no longer send.
        let first = collectors.map { $0.deliveries[0] }
        try await Task(executorPreference: connection.executor) {
            shutdown(sockets[0], Int32(SHUT_WR))
            for delivery in first { try delivery.ack() }
        }.value
        try await waitUntil("client sees the connection lost") { !connection.isConnected }
        proxy.dropLiveConnections()  // the broker requeues the first deliveries
        proxy.refuse(false)
        try await waitUntil("reconnected") { connection.reconnectCount == 1 && connection.isConnected }

        // Prefetch 1: each next message comes only once the ack of the one before reached the broker.
        for (index, collector) in collectors.enumerated() {
            try await collector.wait(for: 2)
            let again = collector.deliveries[1]
            #expect(again.redelivered)
            try again.ack()
            try await collector.wait(for: 3, timeout: .seconds(5))
            #expect(collector.bodies == ["\(["a", "b"][index])1", "\(["a", "b"][index])1", "\(["a", "b"][index])2"])
            collector.stop()
        }
    }

    @Test("a peer that stops taking bytes is a lost connection within a few heartbeats", .timeLimit(.minutes(1)))
    func blackHoledPeer() async throws {
        let proxy = try TCPProxy(targetPort: Self.port(of: TestBroker.url))
        defer { proxy.stop() }
        let connection = try await TestBroker.connect(url: proxy.url(), heartbeat: .seconds(1))
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("blackhole")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await channel.deleteQueue(queue) } }

        proxy.blackHoleLiveConnections()
        // Far more than the socket buffers hold: the client's writes stall.
        let message = OutgoingMessage(body: Data(count: 256 * 1024), routingKey: queue)
        let outcome = Mutex<[Result<Void, AMQPError>]?>(nil)
        let publishing = Task {
            let results = await channel.publishBatch(Array(repeating: message, count: 200))
            outcome.withLock { $0 = results }
        }
        defer { publishing.cancel() }
        try await waitUntil("the publishes end", timeout: .seconds(15)) { outcome.withLock { $0 != nil } }
        let results = outcome.withLock { $0 } ?? []
        #expect(results.count == 200)
        #expect(results.allSatisfy { if case .failure(.connectionLost) = $0 { true } else { false } })
        try await waitUntil("reconnected through the proxy") { connection.reconnectCount == 1 && connection.isConnected }
        try await channel.publish(Data("after".utf8), routingKey: queue)
        #expect(try await channel.inspectQueue(queue).messageCount >= 1)
    }

    @Test("a task waiting for publisher confirms ends when cancelled, its unconfirmed publishes failed", .timeLimit(.minutes(1)))
    func confirmWaitCancelled() async throws {
        let proxy = try TCPProxy(targetPort: Self.port(of: TestBroker.url))
        defer { proxy.stop() }
        // No heartbeats: nothing but the cancellation can end the wait.
        let connection = try await TestBroker.connect(url: proxy.url(), heartbeat: .zero)
        defer { Task { await connection.close() } }
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("cancel-confirms")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: false))
        defer { Task { try? await channel.deleteQueue(queue) } }

        proxy.blackHoleLiveConnections()  // no confirm will come
        let message = OutgoingMessage(body: Data("m".utf8), routingKey: queue)
        let batchOutcome = Mutex<[Result<Void, AMQPError>]?>(nil)
        let singleOutcome = Mutex<Result<Void, Error>?>(nil)
        let batch = Task {
            let results = await channel.publishBatch(Array(repeating: message, count: 5))
            batchOutcome.withLock { $0 = results }
        }
        let single = Task {
            let result = await Result(catching: { try await channel.publish(Data("one".utf8), routingKey: queue) })
            singleOutcome.withLock { $0 = result }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(batchOutcome.withLock { $0 == nil } && singleOutcome.withLock { $0 == nil }, "still waiting for confirms")
        batch.cancel()
        single.cancel()
        try await waitUntil("the batch ends", timeout: .seconds(5)) { batchOutcome.withLock { $0 != nil } }
        try await waitUntil("the single publish ends", timeout: .seconds(5)) { singleOutcome.withLock { $0 != nil } }
        let results = batchOutcome.withLock { $0 } ?? []
        #expect(results.count == 5)
        #expect(results.allSatisfy { if case .failure(.cancelled) = $0 { true } else { false } })
        let one = singleOutcome.withLock { $0 }
        #expect(throws: AMQPError.cancelled) { try one?.get() }
        proxy.stop()
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

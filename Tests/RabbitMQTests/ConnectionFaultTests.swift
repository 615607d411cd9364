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
}

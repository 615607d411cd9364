import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// The task queues of this broker that Warren workers consume, so that `warren status` can show
/// every one (AMQP has no way to list a broker's queues): each worker appends the queues it
/// consumes to the stream `warren.queues` when it starts (on its announcement connection, see
/// `SideConnection`). A name whose queue was since deleted is dropped by the reader, which checks
/// each. The stream keeps its newest 10 MB (about 300,000 entries).
public enum QueueRegistry {
    /// Appends `queues` to the registry on `connection` (no confirm: the registry only helps
    /// listing, and a worker appends its queues again at each start).
    public static func record(_ queues: [String], on connection: Connection) async throws {
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }
        try await declare(on: channel)
        for queue in queues {
            try await channel.publish(Data(JSONValue.object(["queue": .string(queue)]).jsonText.utf8), exchange: "",
                                      routingKey: WireNames.queueRegistryStream,
                                      properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: Date()))
        }
    }

    static func declare(on channel: Channel) async throws {
        var arguments = QueueArguments(type: .stream)
        arguments.extra["x-max-length-bytes"] = .int64(10_000_000)
        arguments.extra["x-stream-max-segment-size-bytes"] = .int64(1_000_000)
        _ = try await channel.declare(QueueSpec(name: WireNames.queueRegistryStream, arguments: arguments))
    }

    /// Every queue name in the registry, sorted, each once (none when the broker or the stream
    /// cannot be read), on a connection of its own.
    public static func names(_ configuration: ConnectionConfiguration) async -> [String] {
        await SideConnection.with(configuration, name: "warren-read-queues") { connection in
            try await names(on: connection)
        } ?? []
    }

    /// Reads the stream from its start until it stops delivering for `idle` (an empty stream:
    /// `first` passes without a delivery).
    static func names(on connection: Connection, first: Duration = .seconds(1), idle: Duration = .milliseconds(250)) async throws -> [String] {
        guard try await SideConnection.exists(WireNames.queueRegistryStream, on: connection) else { return [] }
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }  // a stream read takes nothing away
        try await channel.setPrefetch(1000)
        let consumer = try await channel.consume(queue: WireNames.queueRegistryStream, arguments: ["x-stream-offset": .string("first")])
        let found = Mutex<(names: Set<String>, deliveries: Int)>(([], 0))
        let reading = Task {
            for await batch in consumer.batches {
                var names: [String] = []
                for delivery in batch {
                    if let name = (try? JSONText.parse(delivery.body))?["queue"]?.stringValue { names.append(name) }
                }
                found.withLock {
                    $0.names.formUnion(names)
                    $0.deliveries += batch.count
                }
                try? batch.last?.ack(multiple: true)
            }
        }
        try await waitWhileArriving(first: first, idle: idle, count: { found.withLock { $0.deliveries } })
        reading.cancel()
        try? await consumer.cancel()
        return found.withLock { $0.names }.sorted()
    }
}

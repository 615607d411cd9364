import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// The task queues Warren declared on this broker, so that `warren status` and the dashboard
/// can show every one (AMQP has no way to list a broker's queues): each declaration of a task
/// queue (a worker starting, a publisher creating a missing queue) appends the queue's name to
/// the stream `warren.queues`. A name whose queue was since deleted is dropped by the reader,
/// which checks each. The stream keeps its newest 10 MB (about 300,000 declarations).
public enum QueueRegistry {
    /// Appends `queue` to the registry on `channel` (no confirm: the registry only helps
    /// listing, and a worker declares its queues again at each start).
    static func record(_ queue: String, on channel: Channel) async throws {
        try await declare(on: channel)
        try await channel.publish(Data(JSONValue.object(["queue": .string(queue)]).jsonText.utf8), exchange: "",
                                  routingKey: WireNames.queueRegistryStream,
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: Date()))
    }

    static func declare(on channel: Channel) async throws {
        var arguments = QueueArguments(type: .stream)
        arguments.extra["x-max-length-bytes"] = .int64(10_000_000)
        arguments.extra["x-stream-max-segment-size-bytes"] = .int64(1_000_000)
        _ = try await channel.declare(QueueSpec(name: WireNames.queueRegistryStream, arguments: arguments))
    }

    /// Every queue name in the registry, sorted, each once. Reads the stream from its start
    /// until it stops delivering for `idle` (an empty stream: `first` passes without a delivery).
    public static func names(on connection: Connection, first: Duration = .seconds(1), idle: Duration = .milliseconds(250)) async throws -> [String] {
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }  // a stream read takes nothing away
        try await declare(on: channel)
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

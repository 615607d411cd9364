import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// The stream `warren.workers`, where each worker announces itself (`WorkerAnnouncement`), and
/// its reading: who is alive now and what they hold. No service keeps this state: the stream
/// is it (an hour of it, in 1 MB segments).
public enum WorkerAnnouncements {
    /// Declares the stream (the workers do; readers only look).
    public static func declare(on channel: Channel) async throws {
        var arguments = QueueArguments(type: .stream)
        arguments.extra["x-max-age"] = .string("1h")
        arguments.extra["x-stream-max-segment-size-bytes"] = .int64(1_000_000)
        _ = try await channel.declare(QueueSpec(name: WireNames.workersStream, arguments: arguments))
    }

    /// Publishes one announcement on `channel`.
    public static func publish(_ announcement: WorkerAnnouncement, on channel: Channel) async throws {
        try await channel.publish(Data(announcement.json.jsonText.utf8), exchange: "", routingKey: WireNames.workersStream,
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: announcement.at))
    }

    /// Every announcement made since `since`, read until one made after the call began
    /// arrives, or the stream stops delivering for `idle`.
    static func read(since: Date, on connection: Connection, idle: Duration = .milliseconds(300)) async throws -> [WorkerAnnouncement] {
        let began = Date()
        guard try await SideConnection.exists(WireNames.workersStream, on: connection) else { return [] }
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }  // a stream read takes nothing away
        try await channel.setPrefetch(1000)
        let consumer = try await channel.consume(queue: WireNames.workersStream, arguments: ["x-stream-offset": .timestamp(since)])
        let read = Mutex<(announcements: [WorkerAnnouncement], deliveries: Int, caughtUp: Bool)>(([], 0, false))
        let reading = Task {
            for await batch in consumer.batches {
                let parsed = batch.compactMap { delivery in (try? JSONText.parse(delivery.body)).flatMap(WorkerAnnouncement.init(json:)) }
                try? batch.last?.ack(multiple: true)
                let caughtUp = read.withLock { state in
                    state.announcements += parsed.filter { $0.at >= since }
                    state.deliveries += batch.count
                    state.caughtUp = state.caughtUp || parsed.contains { $0.at >= began }
                    return state.caughtUp
                }
                if caughtUp { return }
            }
        }
        try await waitWhileArriving(first: idle, idle: idle, limit: .seconds(5), count: { read.withLock { $0.deliveries } },
                                    done: { read.withLock { $0.caughtUp } })
        reading.cancel()
        try? await consumer.cancel()
        return read.withLock { $0.announcements }
    }

    /// The workers alive now, from the announcements of the last few minutes, read on a
    /// connection of its own; nil when the broker could not be read.
    public static func alive(_ configuration: ConnectionConfiguration, now: Date = Date()) async -> [WorkerAnnouncement]? {
        await SideConnection.with(configuration, name: "warren-read-workers") { connection in
            WorkerAnnouncement.alive(try await read(since: now.addingTimeInterval(-Self.lookBack), on: connection), at: now)
        }
    }

    /// How far back `alive` reads: three announcements of a worker announcing every minute.
    static let lookBack: TimeInterval = 180
}

import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// The stream `warren.workers`, where each worker announces itself (`WorkerAnnouncement`), and
/// its reading: who is alive now and what they hold. No service keeps this state: the stream
/// is it (an hour of it, in 1 MB segments).
public enum WorkerAnnouncements {
    static func declare(on channel: Channel) async throws {
        var arguments = QueueArguments(type: .stream)
        arguments.extra["x-max-age"] = .string("1h")
        arguments.extra["x-stream-max-segment-size-bytes"] = .int64(1_000_000)
        _ = try await channel.declare(QueueSpec(name: WireNames.workersStream, arguments: arguments))
    }

    /// Publishes one announcement on `channel` (declaring the stream the first time).
    public static func publish(_ announcement: WorkerAnnouncement, on channel: Channel, declare: Bool) async throws {
        if declare { try await Self.declare(on: channel) }
        try await channel.publish(Data(announcement.json.jsonText.utf8), exchange: "", routingKey: WireNames.workersStream,
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: announcement.at))
    }

    /// Every announcement made since `since`, read until one made after the call began
    /// arrives, or the stream stops delivering for `idle`.
    public static func read(since: Date, on connection: Connection, idle: Duration = .milliseconds(300)) async throws -> [WorkerAnnouncement] {
        let began = Date()
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }  // a stream read takes nothing away
        try await declare(on: channel)
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

    /// The workers alive now, from the announcements of the last few minutes.
    public static func alive(on connection: Connection, now: Date = Date()) async throws -> [WorkerAnnouncement] {
        let announcements = try await read(since: now.addingTimeInterval(-Self.lookBack), on: connection)
        return WorkerAnnouncement.alive(announcements, at: now)
    }

    /// How far back `alive` reads: three announcements of a worker announcing every minute.
    static let lookBack: TimeInterval = 180
}

import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// Reads the ready messages of a queue without taking them: a consumer on a channel of its own
/// holds them unacknowledged while the caller looks (and acks those it takes), and closing the
/// channel returns the rest to the queue, in their order, marked redelivered. AMQP has no way
/// to read a queue's messages in place; this is how RabbitMQ's own management UI "gets" them.
struct QueueScan {
    /// The deliveries held, oldest first, and the channel they are held on.
    let deliveries: [Delivery]
    let channel: Channel

    /// Holds up to `limit` ready messages of `queue`. `priority` below 0 makes the scan yield
    /// to every other consumer: the broker hands it only messages that no consumer of normal
    /// priority has room for, so a scan never delays a worker's next task. Waits until `limit`
    /// (or the queue's ready count when the scan began) arrived, or `idle` passed without one.
    static func hold(_ queue: String, limit: Int, priority: Int32 = 0, idle: Duration = .milliseconds(500),
                     on connection: Connection) async throws -> QueueScan {
        let channel = try await connection.openChannel(confirms: false)
        do {
            let ready = try await channel.inspectQueue(queue).messageCount
            let target = min(ready, limit)
            guard target > 0 else { return QueueScan(deliveries: [], channel: channel) }
            try await channel.setPrefetch(UInt16(clamping: min(target, Int(UInt16.max))))
            var arguments: FieldTable = [:]
            if priority != 0 { arguments["x-priority"] = .int32(priority) }
            let consumer = try await channel.consume(queue: queue, arguments: arguments)
            let held = Mutex<[Delivery]>([])
            let reading = Task {
                for await batch in consumer.batches {
                    let count = held.withLock { held in
                        held.append(contentsOf: batch)
                        return held.count
                    }
                    if count >= target { return }
                }
            }
            try await waitWhileArriving(first: idle, idle: idle, count: { held.withLock { $0.count } },
                                        done: { held.withLock { $0.count } >= target })
            reading.cancel()
            try? await consumer.cancel()
            return QueueScan(deliveries: held.withLock { Array($0.prefix(target)) }, channel: channel)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Returns every message not acked to its queue.
    func release() async {
        try? await channel.close()
    }
}

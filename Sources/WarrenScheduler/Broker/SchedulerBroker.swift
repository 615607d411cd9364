import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// The scheduler's own topology and the operations on it: the leader lock, the progress record,
/// the leaders stream. All of it is plain RabbitMQ; no other coordination service is involved.
public enum SchedulerBroker {
    /// Declares the progress queue (a quorum queue in cluster mode), the leaders stream and the
    /// results stream (idempotent).
    public static func declare(on channel: Channel, queueType: QueueType) async throws {
        let progress = QueueArguments(type: queueType, maxLength: 1, overflow: .dropHead)
        try await WarrenTopology.declareQueue(QueueSpec(name: SchedulerNames.progressQueue, arguments: progress), on: channel)
        var leaders = QueueArguments(type: .stream)
        leaders.extra["x-max-age"] = .string("7D")
        _ = try await channel.declare(QueueSpec(name: SchedulerNames.leadersStream, arguments: leaders))
        var results = QueueArguments(type: .stream)
        results.extra["x-max-age"] = .string("1D")
        _ = try await channel.declare(QueueSpec(name: SchedulerNames.resultsStream, arguments: results))
        try await channel.bind(QueueBinding(queue: SchedulerNames.resultsStream, exchange: WireNames.resultsExchange, routingKey: ""))
        try await CancellationStream.declare(on: channel)
        try await ScheduleStreams.declare(on: channel)
    }

    /// Tries to become the active instance: true if this connection now holds the lock, false if
    /// another connection does (the broker answers 405 RESOURCE_LOCKED).
    public static func acquireLock(on channel: Channel) async throws -> Bool {
        do {
            _ = try await channel.declare(QueueSpec(name: SchedulerNames.lockQueue, durable: false, exclusive: true))
            return true
        } catch let error as AMQPError where error.replyCode == 405 {
            return false
        }
    }

    /// The message writing `record`; once confirmed it replaces the previous record.
    public static func progressMessage(_ record: ProgressRecord) -> OutgoingMessage {
        OutgoingMessage(body: record.body, exchange: "", routingKey: SchedulerNames.progressQueue,
                        properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: Date()))
    }

    /// Reads the progress record, or nil if none was ever written. Only the active instance
    /// reads it, before it writes: the message is taken unacked and returned by closing the channel.
    public static func readProgress(on connection: Connection, timeout: Duration = .seconds(10)) async throws -> ProgressRecord? {
        let channel = try await connection.openChannel(confirms: false)
        let delivery: Delivery?
        do {
            delivery = try await takeFirst(of: channel, timeout: timeout)
        } catch {
            try? await channel.close()
            throw error
        }
        // Closing the channel returns the message to the queue before anything new is written.
        try await channel.close()
        guard let delivery else { return nil }
        guard let record = ProgressRecord(body: delivery.body) else {
            throw SchedulerBrokerError(message: "the message in \(SchedulerNames.progressQueue) is not a progress record")
        }
        return record
    }

    /// Appends `{"instance", "since"}` to the leaders stream.
    public static func announce(instance: String, since: Date, on channel: Channel) async throws {
        let body = JSONText.write(.object(["instance": .string(instance), "since": .string(TaskResult.timestamp(since))]))
        try await channel.publish(Data(body.utf8), exchange: "", routingKey: SchedulerNames.leadersStream,
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: since))
    }

    private static func takeFirst(of channel: Channel, timeout: Duration) async throws -> Delivery? {
        guard try await channel.inspectQueue(SchedulerNames.progressQueue).messageCount > 0 else { return nil }
        try await channel.setPrefetch(1)
        let consumer = try await channel.consume(queue: SchedulerNames.progressQueue)
        guard let delivery = try await consumer.firstDelivery(within: timeout) else {
            throw SchedulerBrokerError(message: "the progress record in \(SchedulerNames.progressQueue) was not delivered within \(timeout)")
        }
        return delivery
    }
}

struct SchedulerBrokerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

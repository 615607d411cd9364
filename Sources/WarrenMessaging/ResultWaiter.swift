import Foundation
import RabbitMQ
import WarrenCore

/// Waits for a task's final result through the broker (no store involved): a private,
/// exclusive queue bound to `warren.results.by-id` with the task id as the key receives that
/// task's results only. Start it before publishing so no result can slip past.
public struct ResultWaiter: Sendable {
    private let consumer: Consumer
    private let channel: Channel
    public let id: String

    /// Declares the private queue and starts consuming it.
    public static func start(id: String, on connection: Connection) async throws -> ResultWaiter {
        let channel = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareExchanges(on: channel)
        let queue = "warren.wait.\(TaskMessage.newID())"
        _ = try await channel.declare(QueueSpec(name: queue, durable: false, exclusive: true, autoDelete: true))
        try await channel.bind(QueueBinding(queue: queue, exchange: WireNames.resultsByIDExchange, routingKey: id))
        let consumer = try await channel.consume(queue: queue, exclusive: true)
        return ResultWaiter(consumer: consumer, channel: channel, id: id)
    }

    /// Stops waiting: closes the private queue's channel, and the broker deletes the queue. A
    /// process waiting on many tasks one after another closes each waiter when done with it.
    public func close() async {
        try? await channel.close()
    }

    /// The first final result within `timeout`, or nil. `progress` sees each `retrying` one.
    public func finalResult(timeout: Duration, progress: @escaping @Sendable (TaskResult) -> Void = { _ in }) async -> TaskResult? {
        let consumer = self.consumer
        let id = self.id
        return await withTaskGroup(of: TaskResult?.self) { group in
            group.addTask {
                for await delivery in consumer {
                    try? delivery.ack()
                    guard let result = try? TaskResult.decode(delivery.body), result.id == id else { continue }
                    if result.status.isFinal { return result }
                    progress(result)
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

import Foundation
import RabbitMQ
import WarrenCore

/// Waits for tasks' final results through the broker (no store involved): a private, exclusive
/// queue bound to `warren.results.by-id` once per task id receives those tasks' results only.
/// Start it before publishing so no result can slip past.
public struct ResultWaiter: Sendable {
    private let consumer: Consumer
    private let channel: Channel
    /// The task ids waited for.
    public let ids: Set<String>

    /// Declares the private queue for one task and starts consuming it.
    public static func start(id: String, on connection: Connection) async throws -> ResultWaiter {
        try await start(ids: [id], on: connection)
    }

    /// Declares the private queue, binds it once per id and starts consuming it.
    public static func start(ids: some Sequence<String>, on connection: Connection) async throws -> ResultWaiter {
        let ids = Set(ids)
        let channel = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareExchanges(on: channel)
        let queue = "warren.wait.\(TaskMessage.newID())"
        _ = try await channel.declare(QueueSpec(name: queue, durable: false, exclusive: true, autoDelete: true))
        for id in ids {
            try await channel.bind(QueueBinding(queue: queue, exchange: WireNames.resultsByIDExchange, routingKey: id))
        }
        let consumer = try await channel.consume(queue: queue, exclusive: true)
        return ResultWaiter(consumer: consumer, channel: channel, ids: ids)
    }

    /// Stops waiting: closes the private queue's channel, and the broker deletes the queue. A
    /// process waiting on many tasks one after another closes each waiter when done with it.
    public func close() async {
        try? await channel.close()
    }

    /// The first final result within `timeout`, or nil. `progress` sees each `retrying` one.
    public func finalResult(timeout: Duration, progress: @escaping @Sendable (TaskResult) -> Void = { _ in }) async -> TaskResult? {
        for await result in finalResults(timeout: timeout, progress: progress) { return result }
        return nil
    }

    /// Each task's first final result as it arrives; the sequence ends once every id has one or
    /// `timeout` has passed. `progress` sees each `retrying` result before then.
    public func finalResults(timeout: Duration, progress: @escaping @Sendable (TaskResult) -> Void = { _ in }) -> AsyncStream<TaskResult> {
        let (consumer, ids) = (self.consumer, self.ids)
        let (stream, continuation) = AsyncStream.makeStream(of: TaskResult.self)
        let reader = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var waiting = ids
                    for await delivery in consumer {
                        try? delivery.ack()
                        guard let result = try? TaskResult.decode(delivery.body), waiting.contains(result.id) else { continue }
                        guard result.status.isFinal else {
                            progress(result)
                            continue
                        }
                        waiting.remove(result.id)
                        continuation.yield(result)
                        if waiting.isEmpty { return }
                    }
                }
                group.addTask { try? await Task.sleep(for: timeout) }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }
}

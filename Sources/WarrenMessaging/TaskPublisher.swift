import RabbitMQ
import WarrenCore

/// What publishers (the CLI, the scheduler) do before publishing tasks.
public enum TaskPublisher {
    /// Declares the shared topology, and the task queue unless it exists already (a worker may
    /// have declared it with a length limit or priorities, which must not be contradicted). A
    /// missing queue is created as `options.creatingQueue(forPriority: priority)` says.
    public static func ensureQueue(_ queue: String, options: TaskQueueOptions, priority: Int? = nil, on connection: Connection) async throws {
        let setup = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareShared(on: setup, queueType: options.type)
        let exists: Bool
        do {
            _ = try await setup.inspectQueue(queue)
            exists = true
        } catch let error as AMQPError where error.replyCode == 404 {
            exists = false
        }
        if exists {
            try await setup.bind(QueueBinding(queue: queue, exchange: WireNames.tasksExchange, routingKey: queue))
            try await setup.bind(DelayChain.deliveryBinding(queue: queue))
        } else {
            // The failed passive declare closed the channel and it was reopened: it is usable.
            try await WarrenTopology.declareTaskQueue(queue, options: options.creatingQueue(forPriority: priority), on: setup)
        }
        try? await setup.close()
    }
}

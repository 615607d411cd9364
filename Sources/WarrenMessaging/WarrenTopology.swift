import RabbitMQ
import WarrenCore

/// How task queues are declared; every process declaring a queue must agree (docs/protocol.md).
public struct TaskQueueOptions: Sendable, Hashable {
    public var type: QueueType
    /// `x-max-length` with `reject-publish`: a full queue refuses publishes instead of growing.
    public var maxLength: Int?

    public init(type: QueueType = .classic, maxLength: Int? = nil) {
        self.type = type
        self.maxLength = maxLength
    }

    /// Classic queues get priorities 0–9; quorum queues have none in RabbitMQ 3.10.
    public var arguments: QueueArguments {
        var arguments = QueueArguments(type: type)
        if type == .classic { arguments.maxPriority = 9 }
        if let maxLength {
            arguments.maxLength = maxLength
            arguments.overflow = .rejectPublish
        }
        return arguments
    }
}

/// Declares Warren's exchanges and queues; every declaration is idempotent.
public enum WarrenTopology {
    /// The task and result exchanges (and the by-id results exchange), the results queue, the dead-letter queue and the delay chain.
    public static func declareShared(on channel: Channel) async throws {
        try await channel.declare(ExchangeSpec(name: WireNames.tasksExchange, kind: .direct))
        try await channel.declare(ExchangeSpec(name: WireNames.resultsExchange, kind: .fanout))
        try await channel.declare(ExchangeSpec(name: WireNames.resultsByIDExchange, kind: .direct))
        try await channel.bind(ExchangeBinding(destination: WireNames.resultsByIDExchange, source: WireNames.resultsExchange, routingKey: ""))
        _ = try await channel.declare(QueueSpec(name: WireNames.resultsQueue))
        try await channel.bind(QueueBinding(queue: WireNames.resultsQueue, exchange: WireNames.resultsExchange, routingKey: ""))
        try await channel.declare(ExchangeSpec(name: WireNames.deadLetterExchange, kind: .fanout))
        _ = try await channel.declare(QueueSpec(name: WireNames.deadLetterQueue))
        try await channel.bind(QueueBinding(queue: WireNames.deadLetterQueue, exchange: WireNames.deadLetterExchange, routingKey: ""))
        try await DelayChain.declare(on: channel)
    }

    /// A task queue, bound to `warren.tasks` by its name and to the end of the delay chain.
    public static func declareTaskQueue(_ name: String, options: TaskQueueOptions, on channel: Channel) async throws {
        _ = try await channel.declare(QueueSpec(name: name, arguments: options.arguments))
        try await channel.bind(QueueBinding(queue: name, exchange: WireNames.tasksExchange, routingKey: name))
        try await channel.bind(DelayChain.deliveryBinding(queue: name))
    }
}

import RabbitMQ
import WarrenCore

/// How task queues are declared; every process declaring a queue must agree (docs/protocol.md).
public struct TaskQueueOptions: Sendable, Hashable {
    /// The deployment's queue type (`--queue-type`, `WARREN_QUEUE_TYPE`): classic, or quorum
    /// for cluster mode, where every durable queue Warren declares is replicated.
    public var type: QueueType
    /// `x-max-length` with `reject-publish`: a full queue refuses publishes instead of growing.
    public var maxLength: Int?

    public init(type: QueueType = .classic, maxLength: Int? = nil) {
        self.type = type
        self.maxLength = maxLength
    }

    /// Classic queues get priorities 0–9; quorum queues have none in RabbitMQ 3.10–3.13.
    public var arguments: QueueArguments {
        var arguments = QueueArguments(type: type)
        if type == .classic { arguments.maxPriority = 9 }
        if let maxLength {
            arguments.maxLength = maxLength
            arguments.overflow = .rejectPublish
        }
        return arguments
    }

    /// Why a task with `priority` cannot be published to these queues, or nil if it can. Quorum
    /// queues ignore a message's priority in RabbitMQ 3.10–3.13, so asking for one is refused
    /// rather than silently dropped; 0 (the default) is always accepted.
    public func priorityRefusal(_ priority: Int?) -> String? {
        guard type == .quorum, let priority, priority > 0 else { return nil }
        return "task queues are quorum queues here (queue type quorum), and quorum queues have no priorities in RabbitMQ 3.10-3.13; drop the priority or run with --queue-type classic"
    }

    /// The deployment's queue type from its name, as `--queue-type` and `WARREN_QUEUE_TYPE` give it.
    public static func queueType(named name: String) throws(QueueTypeError) -> QueueType {
        guard let type = QueueType(rawValue: name), type == .classic || type == .quorum else { throw QueueTypeError(name: name) }
        return type
    }
}

/// A queue type other than classic or quorum.
public struct QueueTypeError: Error, Sendable, CustomStringConvertible {
    public let name: String
    public var description: String { "expected classic or quorum, got \"\(name)\"" }
}

/// A queue exists with other arguments than this process declares it with. RabbitMQ never
/// changes a queue's type or arguments, so the process cannot start until the deployment agrees.
public struct QueueMismatchError: Error, Sendable, CustomStringConvertible {
    public let queue: String
    public let wanted: QueueType
    /// The broker's words.
    public let brokerText: String

    public var description: String {
        "queue \(queue) exists with other arguments than this process declares it with (queue type \(wanted.rawValue)): "
            + "every Warren process must run with the same --queue-type (WARREN_QUEUE_TYPE), and RabbitMQ cannot change an existing queue's type: "
            + "to move a deployment between classic and quorum follow docs/operations.md, \"Moving to cluster mode\" (broker: \(brokerText))"
    }
}

/// Declares Warren's exchanges and queues; every declaration is idempotent.
public enum WarrenTopology {
    /// The task and result exchanges and the binding between the result exchanges: all a
    /// process needs that only publishes to them or binds a private queue to them.
    public static func declareExchanges(on channel: Channel) async throws {
        try await channel.declare(ExchangeSpec(name: WireNames.tasksExchange, kind: .direct))
        try await channel.declare(ExchangeSpec(name: WireNames.resultsExchange, kind: .fanout))
        try await channel.declare(ExchangeSpec(name: WireNames.resultsByIDExchange, kind: .direct))
        try await channel.bind(ExchangeBinding(destination: WireNames.resultsByIDExchange, source: WireNames.resultsExchange, routingKey: ""))
        try await channel.declare(ExchangeSpec(name: WireNames.deadLetterExchange, kind: .fanout))
    }

    /// The exchanges, the results queue, the dead-letter queue and the delay chain. With
    /// `queueType` quorum the two queues are quorum queues (the delay chain always is).
    public static func declareShared(on channel: Channel, queueType: QueueType) async throws {
        try await declareExchanges(on: channel)
        try await declareQueue(sharedQueue(WireNames.resultsQueue, type: queueType), on: channel)
        try await channel.bind(QueueBinding(queue: WireNames.resultsQueue, exchange: WireNames.resultsExchange, routingKey: ""))
        try await declareQueue(sharedQueue(WireNames.deadLetterQueue, type: queueType), on: channel)
        try await channel.bind(QueueBinding(queue: WireNames.deadLetterQueue, exchange: WireNames.deadLetterExchange, routingKey: ""))
        try await DelayChain.declare(on: channel)
    }

    /// `warren.results` or `warren.dead-letter` as a deployment of `type` declares it: classic
    /// queues without arguments (as every Warren before cluster mode declared them), or quorum.
    public static func sharedQueue(_ name: String, type: QueueType) -> QueueSpec {
        type == .quorum ? QueueSpec(name: name, arguments: QueueArguments(type: .quorum)) : QueueSpec(name: name)
    }

    /// A task queue, bound to `warren.tasks` by its name and to the end of the delay chain.
    public static func declareTaskQueue(_ name: String, options: TaskQueueOptions, on channel: Channel) async throws {
        try await declareQueue(QueueSpec(name: name, arguments: options.arguments), on: channel)
        try await channel.bind(QueueBinding(queue: name, exchange: WireNames.tasksExchange, routingKey: name))
        try await channel.bind(DelayChain.deliveryBinding(queue: name))
    }

    /// Declares a durable queue of Warren's; a queue that exists with other arguments (another
    /// type, after a move to or from cluster mode) is reported as a `QueueMismatchError`.
    public static func declareQueue(_ spec: QueueSpec, on channel: Channel) async throws {
        do {
            _ = try await channel.declare(spec)
        } catch let error as AMQPError {
            guard case .channelClosed(406, let text) = error, text.contains("inequivalent arg") else { throw error }
            throw QueueMismatchError(queue: spec.name, wanted: spec.arguments.type ?? .classic, brokerText: text)
        }
    }
}

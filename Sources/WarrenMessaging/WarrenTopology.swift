import RabbitMQ
import WarrenCore

/// How task queues are declared; every process declaring a queue must agree (docs/protocol.md).
public struct TaskQueueOptions: Sendable, Hashable {
    /// The deployment's queue type (`--queue-type`, `WARREN_QUEUE_TYPE`): classic, or quorum
    /// for cluster mode, where every durable queue Warren declares is replicated.
    public var type: QueueType
    /// `x-max-length` with `reject-publish`: a full queue refuses publishes instead of growing.
    public var maxLength: Int?
    /// `x-max-priority` (classic queues only): the queue honours message priorities 0…N. Nil, the
    /// default, declares a queue without priorities, which costs the broker 9–61% less per task
    /// (docs/worker.md, Performance); a task's priority is then carried but has no effect.
    public var maxPriority: Int?

    /// The priorities every Warren before priorities became opt-in declared task queues with.
    public static let legacyMaxPriority = 9

    public init(type: QueueType = .classic, maxLength: Int? = nil, maxPriority: Int? = nil) {
        self.type = type
        self.maxLength = maxLength
        self.maxPriority = maxPriority
    }

    /// Options as a user gives them, checked: a length of at least 1, priorities 1…9 and only on
    /// classic queues. The error names the setting; the CLI prefixes its flag.
    public static func validated(type: QueueType, maxLength: Int?, maxPriority: Int?) throws(TaskQueueOptionError) -> TaskQueueOptions {
        if let maxLength, maxLength < 1 { throw TaskQueueOptionError(setting: .maxLength, reason: "expected a positive number, got \(maxLength)") }
        if let maxPriority {
            guard (1...legacyMaxPriority).contains(maxPriority) else {
                throw TaskQueueOptionError(setting: .maxPriority, reason: "expected 1 to \(legacyMaxPriority), got \(maxPriority)")
            }
            guard type == .classic else {
                throw TaskQueueOptionError(setting: .maxPriority, reason: "quorum queues have no priorities in RabbitMQ 3.10-3.13; drop it or run with --queue-type classic")
            }
        }
        return TaskQueueOptions(type: type, maxLength: maxLength, maxPriority: maxPriority)
    }

    /// The queue's arguments: its type, a length limit if set, priorities if asked for.
    public var arguments: QueueArguments {
        var arguments = QueueArguments(type: type)
        if type == .classic, let maxPriority { arguments.maxPriority = UInt8(clamping: maxPriority) }
        if let maxLength {
            arguments.maxLength = maxLength
            arguments.overflow = .rejectPublish
        }
        return arguments
    }

    /// How a publisher creates a task queue that does not exist yet, for a task of `priority`:
    /// a task with a priority above 0 gets a queue with priorities 0–9 so that the priority is
    /// honoured; any other gets the cheaper queue without (docs/protocol.md).
    public func creatingQueue(forPriority priority: Int?) -> TaskQueueOptions {
        var options = TaskQueueOptions(type: type)
        if type == .classic, let priority, priority > 0 { options.maxPriority = Self.legacyMaxPriority }
        return options
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

/// A task queue setting out of range, naming which.
public struct TaskQueueOptionError: Error, Sendable, CustomStringConvertible {
    public enum Setting: String, Sendable { case maxLength = "max queue length", maxPriority = "max priority" }
    public let setting: Setting
    public let reason: String
    public var description: String { reason }
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
    /// The broker's words; they name the argument that differs.
    public let brokerText: String

    public var description: String {
        "queue \(queue) exists with other arguments than this process declares it with (queue type \(wanted.rawValue)): \(advice) (broker: \(brokerText))"
    }

    /// What to do, by the argument the broker names.
    private var advice: String {
        if brokerText.contains("x-max-priority") {
            return "run with the --max-priority the queue has; RabbitMQ cannot change an existing queue's priorities "
                + "(docs/operations.md, \"Changing a task queue's arguments\")"
        }
        if brokerText.contains("x-max-length") || brokerText.contains("x-overflow") {
            return "every worker of the queue must run with the same --max-queue-length; RabbitMQ cannot change an existing queue's limit "
                + "(docs/operations.md, \"Changing a task queue's arguments\")"
        }
        return "every Warren process must run with the same --queue-type (WARREN_QUEUE_TYPE), and RabbitMQ cannot change an existing queue's type: "
            + "to move a deployment between classic and quorum follow docs/operations.md, \"Moving to cluster mode\""
    }
}

/// How a task queue was found when declared.
public enum TaskQueueDeclaration: Sendable, Equatable {
    /// The queue has the arguments asked for (or was created with them).
    case asAsked
    /// No priorities were asked for, but the queue has priorities 0–9: it was declared by an
    /// earlier Warren, or created by a publish with a priority. It is used as it is.
    case existingPriorities
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
        try await declareQueue(workflowsQueue, on: channel)
    }

    /// `warren.workflows`: one consumer active at a time, so one backend coordinates workflow
    /// runs while the others stand by (docs/workflows.md). A quorum queue in every deployment,
    /// as the delay chain's are: RabbitMQ 3.10 and 3.11 classic queues can crash when the active
    /// consumer goes with unacknowledged messages, and the next one then never takes over
    /// (rabbitmq-server#5460).
    public static let workflowsQueue = QueueSpec(name: WireNames.workflowsQueue,
                                                 arguments: QueueArguments(type: .quorum, singleActiveConsumer: true))

    /// `warren.results` or `warren.dead-letter` as a deployment of `type` declares it: classic
    /// queues without arguments (as every Warren before cluster mode declared them), or quorum.
    public static func sharedQueue(_ name: String, type: QueueType) -> QueueSpec {
        type == .quorum ? QueueSpec(name: name, arguments: QueueArguments(type: .quorum)) : QueueSpec(name: name)
    }

    /// A task queue, bound to `warren.tasks` by its name and to the end of the delay chain. A
    /// queue asked for without priorities that exists with priorities 0–9 is kept as it is
    /// (`.existingPriorities`), so that upgrading Warren needs no change to existing queues.
    @discardableResult
    public static func declareTaskQueue(_ name: String, options: TaskQueueOptions, on channel: Channel) async throws -> TaskQueueDeclaration {
        var declaration = TaskQueueDeclaration.asAsked
        do {
            try await declareQueue(QueueSpec(name: name, arguments: options.arguments), on: channel)
        } catch let mismatch as QueueMismatchError where options.maxPriority == nil && options.type == .classic
            && mismatch.brokerText.contains("x-max-priority") {
            var existing = options
            existing.maxPriority = TaskQueueOptions.legacyMaxPriority
            // The refused declare closed the channel and it was reopened: it is usable.
            do {
                try await declareQueue(QueueSpec(name: name, arguments: existing.arguments), on: channel)
            } catch is QueueMismatchError {
                throw mismatch
            }
            declaration = .existingPriorities
        }
        try await channel.bind(QueueBinding(queue: name, exchange: WireNames.tasksExchange, routingKey: name))
        try await channel.bind(DelayChain.deliveryBinding(queue: name))
        return declaration
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

/// The kind of an exchange.
public enum ExchangeKind: Sendable, Hashable {
    case direct, fanout, topic, headers
    /// A plugin-provided type such as `x-delayed-message`.
    case custom(String)

    var name: String {
        switch self {
        case .direct: return "direct"
        case .fanout: return "fanout"
        case .topic: return "topic"
        case .headers: return "headers"
        case .custom(let name): return name
        }
    }
}

/// An exchange to declare.
public struct ExchangeSpec: Sendable, Hashable {
    public var name: String
    public var kind: ExchangeKind
    public var durable: Bool
    public var autoDelete: Bool
    public var `internal`: Bool
    public var arguments: FieldTable

    public init(name: String, kind: ExchangeKind = .direct, durable: Bool = true, autoDelete: Bool = false,
                internal: Bool = false, arguments: FieldTable = [:]) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.autoDelete = autoDelete
        self.internal = `internal`
        self.arguments = arguments
    }
}

/// Classic, quorum (replicated, Raft) or stream queue.
public enum QueueType: String, Sendable, Hashable {
    case classic, quorum, stream
}

/// What a queue at its length limit does with a new message.
public enum OverflowPolicy: String, Sendable, Hashable {
    case dropHead = "drop-head"
    /// Refuse the publish: with publisher confirms the publisher gets a `basic.nack`.
    case rejectPublish = "reject-publish"
    case rejectPublishDeadLetter = "reject-publish-dlx"
}

/// Optional `x-…` arguments of a queue, typed. Anything else goes into `extra`.
public struct QueueArguments: Sendable, Hashable {
    public var type: QueueType?
    public var deadLetterExchange: String?
    public var deadLetterRoutingKey: String?
    /// Messages older than this are dead-lettered or dropped (`x-message-ttl`).
    public var messageTTL: Duration?
    /// The queue is deleted after being unused this long (`x-expires`).
    public var expires: Duration?
    public var maxLength: Int?
    public var maxLengthBytes: Int?
    public var overflow: OverflowPolicy?
    /// Highest priority the queue honours, 1…255 (`x-max-priority`, classic queues).
    public var maxPriority: UInt8?
    public var singleActiveConsumer: Bool
    /// Quorum queues: deliveries after which a message is dead-lettered (`x-delivery-limit`).
    public var deliveryLimit: Int?
    public var extra: FieldTable

    public init(type: QueueType? = nil, deadLetterExchange: String? = nil, deadLetterRoutingKey: String? = nil,
                messageTTL: Duration? = nil, expires: Duration? = nil, maxLength: Int? = nil,
                maxLengthBytes: Int? = nil, overflow: OverflowPolicy? = nil, maxPriority: UInt8? = nil,
                singleActiveConsumer: Bool = false, deliveryLimit: Int? = nil, extra: FieldTable = [:]) {
        self.type = type
        self.deadLetterExchange = deadLetterExchange
        self.deadLetterRoutingKey = deadLetterRoutingKey
        self.messageTTL = messageTTL
        self.expires = expires
        self.maxLength = maxLength
        self.maxLengthBytes = maxLengthBytes
        self.overflow = overflow
        self.maxPriority = maxPriority
        self.singleActiveConsumer = singleActiveConsumer
        self.deliveryLimit = deliveryLimit
        self.extra = extra
    }

    /// The wire form, as the broker expects each argument's type.
    public var table: FieldTable {
        var t = extra
        if let type { t["x-queue-type"] = .string(type.rawValue) }
        if let deadLetterExchange { t["x-dead-letter-exchange"] = .string(deadLetterExchange) }
        if let deadLetterRoutingKey { t["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
        if let messageTTL { t["x-message-ttl"] = .int64(messageTTL.milliseconds) }
        if let expires { t["x-expires"] = .int64(expires.milliseconds) }
        if let maxLength { t["x-max-length"] = .int64(Int64(maxLength)) }
        if let maxLengthBytes { t["x-max-length-bytes"] = .int64(Int64(maxLengthBytes)) }
        if let overflow { t["x-overflow"] = .string(overflow.rawValue) }
        if let maxPriority { t["x-max-priority"] = .uint8(maxPriority) }
        if singleActiveConsumer { t["x-single-active-consumer"] = .bool(true) }
        if let deliveryLimit { t["x-delivery-limit"] = .int64(Int64(deliveryLimit)) }
        return t
    }
}

/// A queue to declare.
public struct QueueSpec: Sendable, Hashable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: QueueArguments

    public init(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                arguments: QueueArguments = .init()) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }
}

/// A queue bound to an exchange.
public struct QueueBinding: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: FieldTable

    public init(queue: String, exchange: String, routingKey: String, arguments: FieldTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// An exchange bound to another (RabbitMQ's `exchange.bind`): messages routed by `source`
/// with a matching key are routed on by `destination`.
public struct ExchangeBinding: Sendable, Hashable {
    public var destination: String
    public var source: String
    public var routingKey: String
    public var arguments: FieldTable

    public init(destination: String, source: String, routingKey: String, arguments: FieldTable = [:]) {
        self.destination = destination
        self.source = source
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// What a queue declaration (active or passive) reports.
public struct QueueState: Sendable, Hashable {
    public var name: String
    /// Messages ready for delivery (not counting unacknowledged ones).
    public var messageCount: Int
    public var consumerCount: Int
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

}

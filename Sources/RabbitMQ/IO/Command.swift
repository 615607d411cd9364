import Foundation

/// A synchronous AMQP method sent on a channel, answered by exactly one reply method.
enum RPCRequest: Sendable {
    case channelOpen
    case channelClose
    case confirmSelect
    case qos(prefetchCount: UInt16, global: Bool)
    case exchangeDeclare(ExchangeSpec, passive: Bool)
    case exchangeDelete(name: String, ifUnused: Bool)
    case queueDeclare(QueueSpec)
    case queueDeclarePassive(name: String)
    case queueBind(QueueBinding)
    case queueUnbind(QueueBinding)
    case queuePurge(name: String)
    case queueDelete(name: String, ifUnused: Bool, ifEmpty: Bool)
    case consume(queue: String, tag: String, exclusive: Bool, arguments: FieldTable)
    case cancel(tag: String)

    /// A short name for logs and timeout errors.
    var name: String {
        switch self {
        case .channelOpen: return "channel.open"
        case .channelClose: return "channel.close"
        case .confirmSelect: return "confirm.select"
        case .qos: return "basic.qos"
        case .exchangeDeclare(let spec, _): return "exchange.declare '\(spec.name)'"
        case .exchangeDelete(let name, _): return "exchange.delete '\(name)'"
        case .queueDeclare(let spec): return "queue.declare '\(spec.name)'"
        case .queueDeclarePassive(let name): return "queue.declare (passive) '\(name)'"
        case .queueBind(let b): return "queue.bind '\(b.queue)' to '\(b.exchange)'"
        case .queueUnbind(let b): return "queue.unbind '\(b.queue)' from '\(b.exchange)'"
        case .queuePurge(let name): return "queue.purge '\(name)'"
        case .queueDelete(let name, _, _): return "queue.delete '\(name)'"
        case .consume(let queue, _, _, _): return "basic.consume '\(queue)'"
        case .cancel(let tag): return "basic.cancel '\(tag)'"
        }
    }
}

/// What a synchronous method returned.
enum RPCReply: Sendable {
    case done
    case queue(QueueState)
    case messageCount(Int)
}

typealias RPCCompletion = @Sendable (Result<RPCReply, AMQPError>) -> Void
typealias PublishCompletion = @Sendable (Result<Void, AMQPError>) -> Void

/// A message to publish and who to tell when the broker has confirmed it.
struct Publication: Sendable {
    var exchange: String
    var routingKey: String
    var mandatory: Bool
    var properties: BasicProperties
    var body: Data
    var completion: PublishCompletion
}

/// A consumer to register on a channel.
struct ConsumerRegistration: Sendable {
    var queue: String
    var tag: String
    var exclusive: Bool
    var arguments: FieldTable
    var sink: DeliverySink
}

/// Requests from callers to a connection's I/O thread.
enum Command: Sendable {
    case openChannel(UInt16, confirms: Bool, completion: RPCCompletion)
    case rpc(UInt16, RPCRequest, completion: RPCCompletion)
    case publish(UInt16, Publication)
    case consume(UInt16, ConsumerRegistration, completion: RPCCompletion)
    case cancelConsumer(UInt16, tag: String, completion: RPCCompletion?)
    case close(completion: @Sendable () -> Void)
}

/// How a delivery was settled by its consumer.
enum SettlementKind: Sendable {
    case ack
    case nack(requeue: Bool)
    case reject(requeue: Bool)
}

/// One consumer's verdict on one delivery.
struct Settlement: Sendable {
    var acknowledger: Acknowledger
    var deliveryTag: UInt64
    var kind: SettlementKind
}

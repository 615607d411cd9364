import Foundation
import Synchronization

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
    case exchangeBind(ExchangeBinding)
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
        case .exchangeBind(let b): return "exchange.bind '\(b.source)' -> '\(b.destination)'"
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

/// Who waits for a publish's outcome. A single caller's continuation needs no allocation; a
/// batch shares one tracker.
enum PublishWaiter: Sendable {
    case continuation(UnsafeContinuation<Void, Error>)
    case batch(PublishBatchTracker, index: Int)
    case callback(PublishCompletion)
}

/// Set when the task waiting for some publishes is cancelled; those publishes share it.
final class PublishCancellation: Sendable {
    private let flag = Atomic(false)

    var isCancelled: Bool { flag.load(ordering: .acquiring) }

    /// Marks the publishes cancelled, then asks the I/O thread to give them up. Either the I/O
    /// thread sees the mark when the publishes reach it, or they are already queued when the
    /// request to give them up arrives.
    func cancel(channel: UInt16, inbox: Inbox) {
        flag.store(true, ordering: .releasing)
        inbox.post(.abandonPublishes(channel, self))
    }
}

/// A message to publish and who to tell when the broker has confirmed it.
struct Publication: Sendable {
    var exchange: String
    var routingKey: String
    var mandatory: Bool
    var properties: BasicProperties
    var body: Data
    var waiter: PublishWaiter
    /// Shared by the publishes of one waiting task, if that task may stop waiting.
    var cancellation: PublishCancellation?

    init(exchange: String, routingKey: String, mandatory: Bool, properties: BasicProperties, body: Data,
         waiter: PublishWaiter, cancellation: PublishCancellation? = nil) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.properties = properties
        self.body = body
        self.waiter = waiter
        self.cancellation = cancellation
    }

    init(exchange: String, routingKey: String, mandatory: Bool, properties: BasicProperties, body: Data,
         completion: @escaping PublishCompletion) {
        self.init(exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties, body: body,
                  waiter: .callback(completion))
    }

    /// Reports the outcome (I/O thread).
    func complete(_ result: Result<Void, AMQPError>) {
        switch waiter {
        case .continuation(let continuation): continuation.resume(with: result.mapError { $0 as Error })
        case .batch(let tracker, let index): tracker.complete(index, result)
        case .callback(let completion): completion(result)
        }
    }
}

/// Collects the outcomes of a batch of publishes and resumes its caller once, when the last one
/// is known. Touched only by the I/O thread until then.
final class PublishBatchTracker: @unchecked Sendable {
    private var results: [Result<Void, AMQPError>]
    private var remaining: Int
    private let continuation: UnsafeContinuation<[Result<Void, AMQPError>], Never>

    init(count: Int, continuation: UnsafeContinuation<[Result<Void, AMQPError>], Never>) {
        results = Array(repeating: .failure(.notConnected), count: count)
        remaining = count
        self.continuation = continuation
        if count == 0 { continuation.resume(returning: []) }
    }

    func complete(_ index: Int, _ result: Result<Void, AMQPError>) {
        results[index] = result
        remaining -= 1
        if remaining == 0 { continuation.resume(returning: results) }
    }
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
    case publishBatch(UInt16, [Publication])
    /// The task waiting for these publishes was cancelled: those not yet confirmed fail with
    /// `cancelled` (those not yet sent are never sent).
    case abandonPublishes(UInt16, PublishCancellation)
    case consume(UInt16, ConsumerRegistration, completion: RPCCompletion)
    case cancelConsumer(UInt16, tag: String, completion: RPCCompletion?)
    case close(completion: @Sendable () -> Void)
}

/// How a delivery was settled by its consumer.
enum SettlementKind: Sendable {
    case ack
    /// Acknowledges this and every earlier unsettled delivery on the channel.
    case ackMultiple
    case nack(requeue: Bool)
    case reject(requeue: Bool)
}

/// One consumer's verdict on one delivery.
struct Settlement: Sendable {
    var acknowledger: Acknowledger
    var deliveryTag: UInt64
    var kind: SettlementKind
}

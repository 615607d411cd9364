import Foundation

/// An AMQP channel. Cheap to copy; all copies are the same channel. If the broker closes the
/// channel because an operation failed (for example 406 on an inequivalent declare), that
/// operation throws `AMQPError.channelClosed` and the channel is reopened at once, with its
/// consumers and prefetch, so later operations work.
public struct Channel: Sendable {
    public let connection: Connection
    /// The channel number on the connection.
    public let number: UInt16
    /// Whether publishes on this channel wait for publisher confirms.
    public let confirms: Bool

    private var core: ConnectionCore { connection.core }

    private func call(_ request: RPCRequest) async throws -> RPCReply {
        try await core.request { .rpc(number, request, completion: $0) }
    }

    /// Declares an exchange (recorded, and declared again after a reconnection).
    public func declare(_ exchange: ExchangeSpec) async throws {
        _ = try await call(.exchangeDeclare(exchange, passive: false))
    }

    /// Checks that an exchange exists; throws `channelClosed` with code 404 if not.
    public func checkExchange(_ name: String) async throws {
        _ = try await call(.exchangeDeclare(ExchangeSpec(name: name), passive: true))
    }

    /// Declares a queue (recorded, and declared again after a reconnection); returns its counts.
    @discardableResult
    public func declare(_ queue: QueueSpec) async throws -> QueueState {
        guard case .queue(let state) = try await call(.queueDeclare(queue)) else { throw AMQPError.notConnected }
        return state
    }

    /// Passive declare: the queue's ready-message and consumer counts; `channelClosed` 404 if
    /// it does not exist.
    public func inspectQueue(_ name: String) async throws -> QueueState {
        guard case .queue(let state) = try await call(.queueDeclarePassive(name: name)) else { throw AMQPError.notConnected }
        return state
    }

    public func bind(_ binding: QueueBinding) async throws {
        _ = try await call(.queueBind(binding))
    }

    /// Binds an exchange to another; re-declared after a reconnection like queue bindings.
    public func bind(_ binding: ExchangeBinding) async throws {
        _ = try await call(.exchangeBind(binding))
    }

    public func unbind(_ binding: QueueBinding) async throws {
        _ = try await call(.queueUnbind(binding))
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false) async throws -> Int {
        guard case .messageCount(let count) = try await call(.queueDelete(name: name, ifUnused: ifUnused, ifEmpty: ifEmpty)) else { return 0 }
        return count
    }

    public func deleteExchange(_ name: String, ifUnused: Bool = false) async throws {
        _ = try await call(.exchangeDelete(name: name, ifUnused: ifUnused))
    }

    /// Removes every ready message from a queue; returns how many.
    @discardableResult
    public func purgeQueue(_ name: String) async throws -> Int {
        guard case .messageCount(let count) = try await call(.queuePurge(name: name)) else { return 0 }
        return count
    }

    /// Limits unacknowledged deliveries per consumer on this channel (`basic.qos`), kept across
    /// reconnections.
    public func setPrefetch(_ count: UInt16, global: Bool = false) async throws {
        _ = try await call(.qos(prefetchCount: count, global: global))
    }

    /// Publishes a message. On a confirming channel this returns once the broker has taken
    /// responsibility for it, and throws `publishNacked` if the broker refused it or `returned`
    /// if `mandatory` and no queue took it. At most `publishWindow` publishes per channel are
    /// unconfirmed at a time; the rest wait in order. While the broker blocks publishing
    /// (`connection.blocked`), publishes wait. Cancelling the calling task ends the wait with
    /// `cancelled`: a publish not yet sent is then never sent.
    public func publish(_ body: Data, exchange: String = "", routingKey: String,
                        properties: BasicProperties = BasicProperties(), mandatory: Bool = false) async throws {
        let cancellation = PublishCancellation()
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, Error>) in
                let publication = Publication(exchange: exchange, routingKey: routingKey, mandatory: mandatory,
                                              properties: properties, body: body, waiter: .continuation(continuation),
                                              cancellation: cancellation)
                if !core.inbox.post(.publish(number, publication)) {
                    continuation.resume(throwing: AMQPError.closedByClient)
                }
            }
        } onCancel: { [core, number] in
            cancellation.cancel(channel: number, inbox: core.inbox)
        }
    }

    /// Publishes many messages in order as one request and returns, when every one of them is
    /// confirmed or refused, one result per message. Far cheaper per message than separate
    /// `publish` calls; the publish window still bounds what is unconfirmed on the wire.
    /// Cancelling the calling task returns at once: each message not yet confirmed gets
    /// `cancelled`, and those not yet sent are never sent.
    public func publishBatch(_ messages: [OutgoingMessage]) async -> [Result<Void, AMQPError>] {
        let cancellation = PublishCancellation()
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<[Result<Void, AMQPError>], Never>) in
                let tracker = PublishBatchTracker(count: messages.count, continuation: continuation)
                guard !messages.isEmpty else { return }
                let publications = messages.enumerated().map { index, message in
                    Publication(exchange: message.exchange, routingKey: message.routingKey, mandatory: message.mandatory,
                                properties: message.properties, body: message.body, waiter: .batch(tracker, index: index),
                                cancellation: cancellation)
                }
                if !core.inbox.post(.publishBatch(number, publications)) {
                    for publication in publications { publication.complete(.failure(.closedByClient)) }
                }
            }
        } onCancel: { [core, number] in
            cancellation.cancel(channel: number, inbox: core.inbox)
        }
    }

    /// Starts a consumer with manual acknowledgements. Set the prefetch first with
    /// `setPrefetch`. Deliveries arrive in the returned sequence; settle each one.
    public func consume(queue: String, tag: String? = nil, exclusive: Bool = false,
                        arguments: FieldTable = [:]) async throws -> Consumer {
        let tag = tag ?? connection.nextConsumerTag(channel: number)
        let (stream, continuation) = AsyncStream.makeStream(of: DeliveryBatch.self)
        let inbox = core.inbox
        let number = self.number
        continuation.onTermination = { _ in
            inbox.post(.cancelConsumer(number, tag: tag, completion: nil))
        }
        let registration = ConsumerRegistration(queue: queue, tag: tag, exclusive: exclusive, arguments: arguments,
                                                sink: DeliverySink(continuation: continuation))
        _ = try await core.request { .consume(number, registration, completion: $0) }
        let core = self.core
        return Consumer(tag: tag, queue: queue, batchStream: stream) {
            _ = try await core.request { .cancelConsumer(number, tag: tag, completion: $0) }
        }
    }

    /// Closes the channel. Its consumers end; its unacknowledged deliveries return to their queues.
    public func close() async throws {
        defer { connection.releaseChannelNumber(number) }
        do {
            _ = try await call(.channelClose)
        } catch AMQPError.notConnected {
            // Not open on any broker right now; forgetting it is enough.
        }
    }
}

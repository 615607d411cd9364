/// A consumer's deliveries as an async sequence. The sequence ends when the consumer is
/// cancelled by this client (`cancel()`), by the broker (for example when its queue is
/// deleted), or when the connection is closed. It survives reconnections: the consumer is
/// registered again on the new connection and deliveries continue.
public struct Consumer: AsyncSequence, Sendable {
    public typealias Element = Delivery

    /// The consumer tag the broker knows this consumer by.
    public let tag: String
    public let queue: String
    let batchStream: AsyncStream<DeliveryBatch>
    let cancelAction: @Sendable () async throws -> Void

    /// Stops deliveries. Unacknowledged deliveries stay with this client until settled.
    public func cancel() async throws {
        try await cancelAction()
    }

    /// The same deliveries in the batches they were read in from the socket. Settling a batch
    /// with `last.ack(multiple: true)` costs one call instead of one per delivery.
    public var batches: AsyncStream<DeliveryBatch> { batchStream }

    public func makeAsyncIterator() -> Iterator {
        Iterator(batches: batchStream.makeAsyncIterator())
    }

    /// Hands out the deliveries of each batch in order.
    public struct Iterator: AsyncIteratorProtocol {
        var batches: AsyncStream<DeliveryBatch>.Iterator
        var current: DeliveryBatch?
        var index = 0

        public mutating func next() async -> Delivery? {
            while current == nil || index == current!.count {
                guard let batch = await batches.next() else { return nil }
                current = batch
                index = 0
            }
            defer { index += 1 }
            return current![index]
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> Delivery? {
            while current == nil || index == current!.count {
                guard let batch = await batches.next(isolation: actor) else { return nil }
                current = batch
                index = 0
            }
            defer { index += 1 }
            return current![index]
        }
    }
}

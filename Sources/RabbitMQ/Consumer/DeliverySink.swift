/// Where the I/O thread puts a consumer's deliveries: batches, one per read of the socket.
final class DeliverySink: Sendable {
    let continuation: AsyncStream<[Delivery]>.Continuation

    init(continuation: AsyncStream<[Delivery]>.Continuation) {
        self.continuation = continuation
    }

    func yield(_ batch: [Delivery]) { continuation.yield(batch) }

    func finish() { continuation.finish() }
}

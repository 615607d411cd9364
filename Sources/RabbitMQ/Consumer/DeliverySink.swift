/// Where the I/O thread puts a consumer's deliveries: one batch per hand-out.
final class DeliverySink: Sendable {
    let continuation: AsyncStream<DeliveryBatch>.Continuation

    init(continuation: AsyncStream<DeliveryBatch>.Continuation) {
        self.continuation = continuation
    }

    func yield(_ batch: DeliveryBatch) { continuation.yield(batch) }

    func finish() { continuation.finish() }
}

import Foundation

/// A message delivered to a consumer. Settle it exactly once with `ack`, `nack` or `reject`.
///
/// A view into the batch it arrived in: copying it costs one reference count, and its body and
/// properties are materialised only when asked for (`withUnsafeBody` reads the body in place).
public struct Delivery: Sendable {
    let batch: DeliveryBatchStorage
    let index: Int

    private var record: DeliveryBatchStorage.Record { batch.records[index] }

    /// The message body (a copy; see `withUnsafeBody` to read it in place).
    public var body: Data {
        let record = batch.records[index]
        return batch.bytes.withUnsafeBytes { Data($0[record.bodyStart..<(record.bodyStart + record.bodyCount)]) }
    }

    /// The body's size in bytes.
    public var bodyCount: Int { batch.records[index].bodyCount }

    /// Reads the body in place, without copying it.
    public func withUnsafeBody<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let record = batch.records[index]
        return try batch.bytes.withUnsafeBytes {
            try body(UnsafeRawBufferPointer(rebasing: $0[record.bodyStart..<(record.bodyStart + record.bodyCount)]))
        }
    }

    /// The message's properties, decoded from the bytes read on each access: keep a copy when
    /// reading several of them.
    public var properties: BasicProperties { batch.properties(at: index) }
    public var exchange: String { batch.records[index].exchange }
    public var routingKey: String { batch.records[index].routingKey }
    /// True when the broker delivered this message before (to this or another consumer).
    public var redelivered: Bool { batch.records[index].redelivered }
    public var deliveryTag: UInt64 { batch.records[index].deliveryTag }
    public var consumerTag: String { batch.consumerTag }

    var acknowledger: Acknowledger { batch.acknowledger }

    /// Acknowledges the delivery: the broker forgets the message. Acknowledgements are coalesced
    /// into `basic.ack(multiple)` frames. Throws `staleDelivery` if the channel this delivery
    /// came on has been lost (the broker has then already requeued the message).
    public func ack() throws(AMQPError) {
        try acknowledger.settle(deliveryTag, .ack)
    }

    /// Acknowledges this delivery and every earlier unsettled one on the same channel (of any
    /// consumer on it), as `basic.ack(multiple)` does: one call for a whole batch.
    public func ack(multiple: Bool) throws(AMQPError) {
        try acknowledger.settle(deliveryTag, multiple ? .ackMultiple : .ack)
    }

    /// Negative acknowledgement; with `requeue: false` the message is dead-lettered or dropped.
    public func nack(requeue: Bool = true) throws(AMQPError) {
        try acknowledger.settle(deliveryTag, .nack(requeue: requeue))
    }

    /// Rejects the delivery; with `requeue: false` the message is dead-lettered or dropped.
    public func reject(requeue: Bool = false) throws(AMQPError) {
        try acknowledger.settle(deliveryTag, .reject(requeue: requeue))
    }

    /// False once the channel this delivery came on is gone; settling it then throws.
    public var isSettleable: Bool { !acknowledger.isStale }
}

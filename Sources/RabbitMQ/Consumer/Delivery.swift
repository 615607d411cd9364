import Foundation

/// A message delivered to a consumer. Settle it exactly once with `ack`, `nack` or `reject`.
public struct Delivery: Sendable {
    public let body: Data
    public let properties: BasicProperties
    public let exchange: String
    public let routingKey: String
    /// True when the broker delivered this message before (to this or another consumer).
    public let redelivered: Bool
    public let deliveryTag: UInt64
    public let consumerTag: String
    let acknowledger: Acknowledger

    /// Acknowledges the delivery: the broker forgets the message. Acknowledgements are coalesced
    /// into `basic.ack(multiple)` frames. Throws `staleDelivery` if the channel this delivery
    /// came on has been lost (the broker has then already requeued the message).
    public func ack() throws(AMQPError) {
        try acknowledger.settle(deliveryTag, .ack)
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

import Foundation

/// Deliveries read together from the socket for one consumer, stored in one place: every body
/// in one byte buffer, every envelope in one array. A `Delivery` is a view into it, so reading
/// a delivery allocates nothing per message; the batch is freed when its last delivery is.
public struct DeliveryBatch: RandomAccessCollection, Sendable {
    let storage: DeliveryBatchStorage

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.records.count }

    public subscript(position: Int) -> Delivery {
        Delivery(batch: storage, index: position)
    }
}

/// Written by the I/O thread while it reads a batch; immutable once handed to the consumer
/// (the hand-off through `AsyncStream` orders the writes before every read).
final class DeliveryBatchStorage: @unchecked Sendable {
    struct Record {
        var bodyStart: Int
        var bodyCount: Int
        var deliveryTag: UInt64
        var redelivered: Bool
        var exchange: String
        var routingKey: String
        var properties: BasicProperties
    }

    let acknowledger: Acknowledger
    let consumerTag: String
    @exclusivity(unchecked) var bodies: [UInt8] = []
    @exclusivity(unchecked) var records: [Record] = []

    init(acknowledger: Acknowledger, consumerTag: String) {
        self.acknowledger = acknowledger
        self.consumerTag = consumerTag
    }
}

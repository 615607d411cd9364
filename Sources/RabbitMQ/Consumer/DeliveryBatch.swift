import Foundation

/// Deliveries read together from the socket for one consumer, stored in one place: every body
/// and every property string in one byte buffer, every envelope in one array. A `Delivery` is a
/// view into it, so reading a delivery allocates nothing per message; the batch is freed when
/// its last delivery is.
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
        /// Where the property strings start in `bytes`; the body follows them.
        var propertiesStart: Int
        var bodyStart: Int
        var bodyCount: Int
        var deliveryTag: UInt64
        var redelivered: Bool
        var exchange: String
        var routingKey: String
        var properties: RawProperties
    }

    let acknowledger: Acknowledger
    let consumerTag: String
    @exclusivity(unchecked) var bytes: [UInt8] = []
    @exclusivity(unchecked) var records: [Record] = []

    init(acknowledger: Acknowledger, consumerTag: String) {
        self.acknowledger = acknowledger
        self.consumerTag = consumerTag
    }

    /// The properties of the delivery at `index`, decoded now.
    func properties(at index: Int) -> BasicProperties {
        let record = records[index]
        return bytes.withUnsafeBytes { record.properties.decode(UnsafeRawBufferPointer(rebasing: $0[record.propertiesStart...])) }
    }
}

import Foundation

/// A message to publish with `Channel.publishBatch`.
public struct OutgoingMessage: Sendable {
    public var body: Data
    public var exchange: String
    public var routingKey: String
    public var properties: BasicProperties
    /// Return the message (and fail its result) if no queue takes it.
    public var mandatory: Bool

    public init(body: Data, exchange: String = "", routingKey: String, properties: BasicProperties = BasicProperties(),
                mandatory: Bool = false) {
        self.body = body
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.mandatory = mandatory
    }
}

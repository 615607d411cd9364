import Foundation
import RabbitMQ
import WarrenCore

extension TaskResult {
    /// The message carrying this result to `warren.results` (`correlation_id` = task id,
    /// routing key = task id, which the fanout ignores and `warren.results.by-id` routes by).
    public func outgoing() throws -> OutgoingMessage {
        let properties = BasicProperties(contentType: "application/json", deliveryMode: 2, correlationID: id,
                                         type: "warren.result")
        return OutgoingMessage(body: try jsonData(), exchange: WireNames.resultsExchange, routingKey: id, properties: properties)
    }
}

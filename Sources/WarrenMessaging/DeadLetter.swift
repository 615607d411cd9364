import Foundation
import RabbitMQ
import WarrenCore

/// Messages that cannot be processed go to `warren.dead` with the reason in their headers.
public enum DeadLetter {
    /// The original message, headers extended with why it was dead-lettered and where from;
    /// `id` becomes its `message_id` when it had none.
    public static func copy(of delivery: Delivery, queue: String, reason: String, error: String, id: String? = nil) -> OutgoingMessage {
        var properties = delivery.properties
        if properties.messageID?.isEmpty ?? true, let id { properties.messageID = id }
        var headers = properties.headers ?? [:]
        headers[WireHeaders.deadLetterReason] = .string(reason)
        headers[WireHeaders.deadLetterError] = .string(String(error.prefix(1000)))
        headers[WireHeaders.deadLetterQueue] = .string(queue)
        headers[WireHeaders.deadLetterAt] = .string(TaskResult.timestamp(Date()))
        properties.headers = headers
        properties.deliveryMode = 2
        return OutgoingMessage(body: delivery.body, exchange: WireNames.deadLetterExchange, routingKey: queue, properties: properties)
    }
}

import Foundation
import RabbitMQ
import WarrenCore

extension TaskMessage {
    /// The message to publish: straight to `warren.tasks`, or into the delay chain when `delay`
    /// is positive (rounded up to whole seconds).
    public func outgoing(delay: Duration = .zero) -> OutgoingMessage {
        var headers: FieldTable = [WireHeaders.attempt: .int64(Int64(attempt))]
        if let schedule { headers[WireHeaders.schedule] = .string(schedule) }
        if let scheduledFor { headers[WireHeaders.scheduledFor] = .string(scheduledFor) }
        if let expiresAt { headers[WireHeaders.expiresAt] = .string(TaskResult.timestamp(expiresAt)) }
        if let traceparent { headers[WireHeaders.traceparent] = .string(traceparent) }
        let properties = BasicProperties(
            contentType: "application/json", headers: headers, deliveryMode: 2,
            priority: priority.map { UInt8(clamping: $0) }, messageID: id, timestamp: Date(), type: task
        )
        let delaySeconds = Int((delay + .milliseconds(999)).components.seconds)
        if delay > .zero {
            return OutgoingMessage(body: body, exchange: DelayChain.entryExchange,
                                   routingKey: DelayChain.routingKey(delaySeconds: delaySeconds, queue: queue),
                                   properties: properties, mandatory: false)
        }
        return OutgoingMessage(body: body, exchange: WireNames.tasksExchange, routingKey: queue, properties: properties, mandatory: true)
    }

    /// Reads a delivery taken from `queue`. A message without `message_id` gets a fresh id.
    public init(delivery: Delivery, queue: String, maxPayload: Int) throws(TaskMessageError) {
        guard delivery.bodyCount <= maxPayload else { throw .tooLarge(bytes: delivery.bodyCount, limit: maxPayload) }
        let parsed = delivery.withUnsafeBody { bytes in
            Result { () throws(TaskMessageError) in try TaskMessage.parseBody(bytes: bytes) }
        }
        let (task, args) = try parsed.get()
        let properties = delivery.properties
        let headers = properties.headers ?? [:]
        self.init(
            id: properties.messageID.flatMap { $0.isEmpty ? nil : $0 } ?? TaskMessage.newID(),
            task: task, args: args, queue: queue,
            attempt: Int(headers[WireHeaders.attempt]?.intValue ?? 1),
            priority: properties.priority.map(Int.init),
            schedule: headers[WireHeaders.schedule]?.stringValue,
            scheduledFor: headers[WireHeaders.scheduledFor]?.stringValue,
            expiresAt: headers[WireHeaders.expiresAt]?.stringValue.flatMap(TaskResult.parseTimestamp),
            traceparent: headers[WireHeaders.traceparent]?.stringValue
        )
    }
}

import Foundation
import RabbitMQ
import WarrenCore

extension TaskResult {
    /// The message carrying this result to `warren.results` (`correlation_id` = task id,
    /// routing key = task id, which the fanout ignores and `warren.results.by-id` routes by).
    /// A result whose body would be over `TaskResult.largestBody` is sent without its `result`,
    /// as `failed` with the reason, instead: the backend could not store it, and a broker with a
    /// lower `max_message_size` would close the channel over it.
    public func outgoing() throws -> OutgoingMessage {
        // A step's result says so in a header too, so the backend stores it at once instead of
        // waiting out its batch delay: the run's next steps wait for it.
        let properties = BasicProperties(contentType: "application/json", headers: workflow.map { [WireHeaders.workflow: .string($0)] },
                                         deliveryMode: 2, correlationID: id, type: "warren.result")
        var body = try jsonData()
        if body.count > TaskResult.largestBody {
            var bounded = self
            bounded.result = nil
            if bounded.status == .succeeded { bounded.status = .failed }
            bounded.error = "the task's result is \(body.count) bytes, over the \(TaskResult.largestBody)-byte limit of a result message"
            body = try bounded.jsonData()
        }
        return OutgoingMessage(body: body, exchange: WireNames.resultsExchange, routingKey: id, properties: properties)
    }
}

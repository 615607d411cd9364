import Foundation
import RabbitMQ
import WarrenCore

/// The durable record of cancellations: `warren cancel` appends, every worker reads it from the
/// start (so a worker that starts after a cancel still knows), entries expire after 7 days.
public enum CancellationStream {
    public static func declare(on channel: Channel) async throws {
        try await channel.declare(ExchangeSpec(name: WireNames.cancelExchange, kind: .fanout))
        var arguments = QueueArguments(type: .stream)
        arguments.extra["x-max-age"] = .string("7D")
        _ = try await channel.declare(QueueSpec(name: WireNames.cancellationStream, arguments: arguments))
        try await channel.bind(QueueBinding(queue: WireNames.cancellationStream, exchange: WireNames.cancelExchange, routingKey: ""))
    }

    /// Appends a record, confirmed.
    public static func append(_ record: CancellationRecord, on channel: Channel) async throws {
        try await channel.publish(record.body, exchange: WireNames.cancelExchange, routingKey: "",
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: Date()))
    }
}

import Foundation
import Testing
@testable import RabbitMQ

@Suite("Publish and consume against a real broker")
struct PublishConsumeTests {
    /// Runs `body` with a channel and a fresh auto-deleted queue (and its declare reply), then
    /// closes the connection.
    @Test("a published message is consumed with its body and properties intact")
    func roundTrip() async throws {
        try await TestBroker.withQueue("roundtrip") { channel, queue, _ in
            // Declaring again is idempotent and reports the queue's state.
            let declared = try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: true))
            #expect(declared.name == queue)
            #expect(declared.messageCount == 0)

            let properties = BasicProperties(
                contentType: "application/json", headers: ["x-attempt": .int32(3), "x-name": "échéance", "nested": .table(["k": true])],
                deliveryMode: 2, priority: 4, correlationID: "corr-1", messageID: "m-1",
                timestamp: Date(timeIntervalSince1970: 1_700_000_000), type: "demo.task")
            try await channel.publish(Data(#"{"hello":"world"}"#.utf8), routingKey: queue, properties: properties)

            let consumer = try await channel.consume(queue: queue)
            let collector = DeliveryCollector(consumer)
            try await collector.wait(for: 1)
            let delivery = collector.deliveries[0]
            #expect(String(decoding: delivery.body, as: UTF8.self) == #"{"hello":"world"}"#)
            #expect(delivery.routingKey == queue)
            #expect(delivery.exchange == "")
            #expect(delivery.redelivered == false)
            #expect(delivery.properties.contentType == "application/json")
            #expect(delivery.properties.messageID == "m-1")
            #expect(delivery.properties.correlationID == "corr-1")
            #expect(delivery.properties.type == "demo.task")
            #expect(delivery.properties.priority == 4)
            #expect(delivery.properties.deliveryMode == 2)
            #expect(delivery.properties.timestamp == Date(timeIntervalSince1970: 1_700_000_000))
            #expect(delivery.properties.headers?["x-attempt"]?.intValue == 3)
            #expect(delivery.properties.headers?["x-name"]?.stringValue == "échéance")
            #expect(delivery.properties.headers?["nested"] == .table(["k": true]))
            collector.stop()
        }
    }

    @Test("bodies of many frames arrive whole between small ones, whatever ends each read from the socket")
    func bodiesAcrossFrames() async throws {
        try await TestBroker.withQueue("multi-frame") { channel, queue, _ in
            // 1 MB bodies span eight 128 KB frames; reads from the socket end mid-frame.
            func body(_ index: Int) -> Data {
                index % 2 == 0
                    ? Data((0..<1_000_003).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })
                    : Data("small-\(index)".utf8)
            }
            let count = 24
            for result in await channel.publishBatch((0..<count).map { OutgoingMessage(body: body($0), routingKey: queue) }) {
                try result.get()
            }
            let collector = DeliveryCollector(try await channel.consume(queue: queue))
            try await collector.wait(for: count, timeout: .seconds(30))
            let bodies = collector.deliveries.map(\.body)
            #expect(bodies.count == count)
            for index in 0..<count { #expect(bodies[index] == body(index), "delivery \(index)") }
            collector.stop()
        }
    }

    @Test("every property survives per message when many are written and read in batches")
    func propertiesPerMessageInBatches() async throws {
        try await TestBroker.withQueue("properties") { channel, queue, _ in
            func properties(_ index: Int) -> BasicProperties {
                // Every third message has no properties at all; the others vary in which are set.
                guard index % 3 != 0 else { return BasicProperties() }
                return BasicProperties(
                    contentType: "application/x-\(index)", contentEncoding: index % 2 == 0 ? "gzip" : nil,
                    headers: index % 4 == 1 ? ["index": .int64(Int64(index))] : nil, deliveryMode: 2,
                    priority: UInt8(index % 10), correlationID: "correlation-\(index)", replyTo: "reply-\(index)",
                    expiration: "\(600_000 + index)", messageID: String(repeating: "m", count: index),
                    timestamp: Date(timeIntervalSince1970: TimeInterval(1_700_000_000 + index)), type: "type-\(index)",
                    userID: "guest", appID: index % 2 == 1 ? "app-\(index)" : nil)
            }
            let count = 120
            let messages = (0..<count).map { index in
                OutgoingMessage(body: Data("body-\(index)".utf8), routingKey: queue, properties: properties(index))
            }
            for result in await channel.publishBatch(messages) { try result.get() }

            let consumer = try await channel.consume(queue: queue)
            let collector = DeliveryCollector(consumer)
            try await collector.wait(for: count)
            for (index, delivery) in collector.deliveries.enumerated() {
                #expect(String(decoding: delivery.body, as: UTF8.self) == "body-\(index)")
                #expect(delivery.properties == properties(index), "message \(index)")
            }
            collector.stop()
        }
    }

    @Test("a 5 MiB message is confirmed and consumed intact (split into frames and joined again)")
    func largeMessage() async throws {
        try await TestBroker.withQueue("large") { channel, queue, _ in
            let body = Data((0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            try await channel.publish(body, routingKey: queue, properties: BasicProperties(deliveryMode: 2))
            let consumer = try await channel.consume(queue: queue)
            let collector = DeliveryCollector(consumer)
            try await collector.wait(for: 1)
            #expect(collector.deliveries[0].body == body)
            collector.stop()
        }
    }
}

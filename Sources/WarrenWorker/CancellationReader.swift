import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// Reads the cancellation stream from its start into the registry, then follows it live.
enum CancellationReader {
    /// Starts reading on `channel`; returns once everything published before now has been read
    /// (the worker's own start-up marker came back), or throws after `timeout`.
    static func start(channel: Channel, publisher: Channel, registry: CancellationRegistry, logger: Logger,
                      timeout: Duration = .seconds(15)) async throws -> Task<Void, Never> {
        try await CancellationStream.declare(on: channel)
        try await channel.setPrefetch(1000)
        let consumer = try await channel.consume(queue: WireNames.cancellationStream, arguments: ["x-stream-offset": .string("first")])
        let marker = "worker \(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier) \(UUID().uuidString)"
        let caughtUp = CaughtUpSignal()
        let reading = Task {
            for await batch in consumer.batches {
                for delivery in batch {
                    switch CancellationRecord(body: delivery.body) {
                    case .cancel(let id)?:
                        registry.cancel(id)
                        logger.debug("cancel recorded", metadata: ["task_id": "\(id)"])
                    case .marker(let seen)? where seen == marker:
                        caughtUp.signal()
                    default:
                        break
                    }
                }
                try? batch.last?.ack(multiple: true)
            }
        }
        try await CancellationStream.append(.marker(marker), on: publisher)
        guard await caughtUp.wait(timeout: timeout) else {
            reading.cancel()
            throw CancellationReaderError(message: "the cancellation stream \(WireNames.cancellationStream) did not catch up within \(timeout)")
        }
        return reading
    }
}

struct CancellationReaderError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

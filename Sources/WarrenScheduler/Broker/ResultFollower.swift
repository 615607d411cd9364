import Foundation
import Logging
import RabbitMQ
import WarrenCore

/// Reads the results stream from a point in time and tells the run tracker of every final result.
enum ResultFollower {
    /// Starts following from `since`; the returned task runs until cancelled or the channel
    /// closes. `runClosed` is called when a result closes an open run.
    static func start(on channel: Channel, since: Date, tracker: RunTracker, logger: Logger,
                      runClosed: @escaping @Sendable () -> Void) async throws -> Task<Void, Never> {
        try await channel.setPrefetch(1000)
        let consumer = try await channel.consume(queue: SchedulerNames.resultsStream, arguments: ["x-stream-offset": .timestamp(since)])
        return Task {
            for await batch in consumer.batches {
                for delivery in batch {
                    guard let result = try? TaskResult.decode(delivery.body), result.status.isFinal else { continue }
                    if tracker.finished(result.id, schedule: result.schedule) { runClosed() }
                }
                try? batch.last?.ack(multiple: true)
            }
            logger.debug("results stream consumer ended")
        }
    }
}

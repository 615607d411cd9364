import Logging
import RabbitMQ
import Synchronization

/// Publishes what finished tasks produced (results, retries, dead-letter copies) and acks their
/// deliveries once the broker has confirmed every message of a delivery.
///
/// Tasks hand their messages over and move on; one drain loop publishes everything handed over
/// since its last turn as one confirmed batch. Under load the batches grow by themselves, so the
/// per-task cost of a publish round trip shrinks, while a lone task still goes out at once.
final class ResultSettler: Sendable {
    private struct Item: Sendable {
        var delivery: Delivery
        var messages: [OutgoingMessage]
    }

    private let publisher: Channel
    private let metrics: WorkerMetrics
    private let logger: Logger
    private final class PendingItems: Sendable {
        private let items = Mutex<[Item]>([])
        func append(_ item: Item) { items.withLock { $0.append(item) } }
        func takeAll() -> [Item] {
            items.withLock { items in
                defer { items.removeAll(keepingCapacity: true) }
                return items
            }
        }
    }

    private let pending = PendingItems()
    private let wake: AsyncStream<Void>.Continuation
    private let drained: Task<Void, Never>

    init(publisher: Channel, metrics: WorkerMetrics, logger: Logger) {
        self.publisher = publisher
        self.metrics = metrics
        self.logger = logger
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        let pending = self.pending
        drained = Task { [pending] in
            for await _ in signals {
                while true {
                    let items = pending.takeAll()
                    if items.isEmpty { break }
                    await Self.settle(items, publisher: publisher, logger: logger)
                    metrics.settled(items.count)
                }
            }
        }
    }

    /// Hands over a delivery's messages; the delivery is acked once all are confirmed. If any is
    /// refused the delivery stays unacked and comes back (at-least-once).
    func submit(_ delivery: Delivery, _ messages: [OutgoingMessage]) {
        pending.append(Item(delivery: delivery, messages: messages))
        wake.yield()
    }

    /// Waits until everything handed over is published and acked, and stops.
    func finish() async {
        wake.finish()
        await drained.value
    }

    private static func settle(_ items: [Item], publisher: Channel, logger: Logger) async {
        let results = await publisher.publishBatch(items.flatMap(\.messages))
        var offset = 0
        for item in items {
            let outcome = results[offset..<(offset + item.messages.count)]
            offset += item.messages.count
            if let failure = outcome.first(where: { if case .failure = $0 { return true } else { return false } }) {
                logger.error("could not publish a result; the task will be redelivered",
                             metadata: ["task_id": "\(item.delivery.properties.messageID ?? "(none)")", "error": "\(failure)"])
                continue
            }
            do {
                try item.delivery.ack()
            } catch {
                logger.warning("could not ack (the connection was replaced); the task will be redelivered",
                               metadata: ["task_id": "\(item.delivery.properties.messageID ?? "(none)")", "error": "\(error)"])
            }
        }
    }
}

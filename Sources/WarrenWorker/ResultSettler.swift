import Logging
import RabbitMQ
import Synchronization

/// Publishes what finished tasks produced (results, retries, dead-letter copies) and acks their
/// deliveries once the broker has confirmed every message of a delivery.
///
/// Tasks hand their messages over and move on; one drain loop publishes everything handed over
/// since its last turn as one confirmed batch, with up to `batchesInFlight` batches awaiting
/// their confirms at once. Under load the batches grow by themselves, so the per-task cost of a
/// publish round trip shrinks, while a lone task still goes out at once.
///
/// Results and deliveries travel on different connections, which reconnect independently. While
/// the publishing connection is down, a finished task's messages are kept and published again
/// every `retryInterval` for as long as its delivery is still held (the task is not run again);
/// once the delivery's own connection is gone the broker has requeued it, and the messages are
/// dropped. A message the broker refuses returns its delivery to the queue (nack, requeue).
final class ResultSettler: Sendable {
    private struct Item: Sendable {
        var delivery: Delivery
        var messages: [OutgoingMessage]
        var failures = 0
    }

    private enum Fate {
        case settled
        case retry(Item)
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

    init(publisher: Channel, metrics: WorkerMetrics, logger: Logger, retryInterval: Duration = .milliseconds(250),
         batchesInFlight: Int = 16) {
        self.publisher = publisher
        self.metrics = metrics
        self.logger = logger
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        let pending = self.pending
        drained = Task { [pending] in
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await _ in signals {
                    while true {
                        // A new batch goes out while earlier ones wait for their confirms, so
                        // acks (and the prefetch credit they return) follow each batch's
                        // confirms instead of waiting for the one before it.
                        if inFlight == batchesInFlight {
                            await group.next()
                            inFlight -= 1
                        }
                        let items = pending.takeAll()
                        if items.isEmpty { break }
                        inFlight += 1
                        group.addTask {
                            await Self.settleUntilDone(items, publisher: publisher, metrics: metrics, logger: logger,
                                                       retryInterval: retryInterval)
                        }
                    }
                }
            }
        }
    }

    /// Hands over a delivery's messages; the delivery is acked once all are confirmed.
    func submit(_ delivery: Delivery, _ messages: [OutgoingMessage]) {
        pending.append(Item(delivery: delivery, messages: messages))
        wake.yield()
    }

    /// Waits until everything handed over is published and acked, and stops. Cancelling the
    /// caller stops retrying.
    func finish() async {
        wake.finish()
        let drained = self.drained
        await withTaskCancellationHandler { await drained.value } onCancel: { drained.cancel() }
    }

    /// Publishes the items' messages as one batch, again every `retryInterval` for those whose
    /// publish failed on a lost connection, until all are settled or the caller is cancelled
    /// (shutdown past its grace: what is held returns with the connection).
    private static func settleUntilDone(_ items: [Item], publisher: Channel, metrics: WorkerMetrics, logger: Logger,
                                        retryInterval: Duration) async {
        var items = items
        while true {
            let retrying = await settle(items, publisher: publisher, logger: logger)
            metrics.settled(items.count - retrying.count)
            if retrying.isEmpty { return }
            guard (try? await Task.sleep(for: retryInterval)) != nil else { return }
            items = retrying
        }
    }

    /// Publishes the items' messages as one batch; returns the items to publish again.
    private static func settle(_ items: [Item], publisher: Channel, logger: Logger) async -> [Item] {
        let results = await publisher.publishBatch(items.flatMap(\.messages))
        var offset = 0
        var retry: [Item] = []
        for item in items {
            let outcome = results[offset..<(offset + item.messages.count)]
            offset += item.messages.count
            let failure = outcome.lazy.compactMap { result -> AMQPError? in
                if case .failure(let error) = result { return error } else { return nil }
            }.first
            switch fate(of: item, failure: failure, logger: logger) {
            case .settled: break
            case .retry(let again): retry.append(again)
            }
        }
        return retry
    }

    private static func fate(of item: Item, failure: AMQPError?, logger: Logger) -> Fate {
        // Only for log lines: decoding the properties costs more than the ack itself.
        var taskID: String { item.delivery.properties.messageID ?? "(none)" }
        guard let failure else {
            do {
                try item.delivery.ack()
            } catch {
                logger.warning("could not ack (the connection was replaced); the task will be redelivered",
                               metadata: ["task_id": "\(taskID)", "error": "\(error)"])
            }
            return .settled
        }
        guard item.delivery.isSettleable else {
            logger.warning("could not publish a result, and the task's delivery went with its connection; the task will be redelivered",
                           metadata: ["task_id": "\(taskID)", "error": "\(failure)"])
            return .settled
        }
        switch failure {
        case .notConnected, .connectionLost:
            if item.failures == 0 {
                logger.warning("could not publish a result; publishing it again once the broker is back",
                               metadata: ["task_id": "\(taskID)", "error": "\(failure)"])
            }
            var again = item
            again.failures += 1
            return .retry(again)
        default:
            logger.error("the broker refused a result; the task returns to its queue",
                         metadata: ["task_id": "\(taskID)", "error": "\(failure)"])
            try? item.delivery.nack(requeue: true)
            return .settled
        }
    }
}

import Logging
import RabbitMQ
import Synchronization
import WarrenMessaging

/// Publishes what finished tasks produced (results, retries, dead-letter copies) and acks their
/// deliveries once the broker has confirmed every message of a delivery.
///
/// Tasks hand their messages over and move on; one drain loop publishes everything handed over
/// since its last turn as one confirmed batch, with up to `batchesInFlight` batches awaiting
/// their confirms at once. Under load the batches grow by themselves, so the per-task cost of a
/// publish round trip shrinks, while a lone task still goes out at once.
///
/// Only what the broker has not confirmed is ever published again:
/// - While the publishing connection is down, a settlement's unconfirmed messages are published
///   again every `retryInterval` for as long as its delivery is still held (the task is not run
///   again); once the delivery's own connection is gone the broker has requeued it, and they
///   are dropped.
/// - When the broker closes the publishing channel, the unconfirmed messages are published again
///   one at a time, so that the one it refuses is found.
/// - A message the broker refuses (nacked, returned, or closing the channel on its own) is
///   replaced as `RefusalPolicy` says, and the delivery is acked: a finished task is never run
///   again because something it produced could not be published.
final class ResultSettler: Sendable {
    private let publisher: Channel
    private let ledger: RunLedger<Delivery>
    private let metrics: WorkerMetrics
    private let logger: Logger
    private final class PendingItems: Sendable {
        private let items = Mutex<[Settlement]>([])
        func append(_ item: Settlement) { items.withLock { $0.append(item) } }
        func takeAll() -> [Settlement] {
            items.withLock { items in
                defer { items.removeAll(keepingCapacity: true) }
                return items
            }
        }
    }

    private let pending = PendingItems()
    private let wake: AsyncStream<Void>.Continuation
    private let drained: Task<Void, Never>

    init(publisher: Channel, ledger: RunLedger<Delivery>, metrics: WorkerMetrics, logger: Logger,
         retryInterval: Duration = .milliseconds(250), batchesInFlight: Int = 16) {
        self.publisher = publisher
        self.ledger = ledger
        self.metrics = metrics
        self.logger = logger
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        let pending = self.pending
        let round = Round(publisher: publisher, ledger: ledger, metrics: metrics, logger: logger)
        // The drain loop runs on the publishing connection's I/O thread, and so do rounds of a
        // few settlements (few deliveries in flight: the default prefetch): their confirms
        // resume them in the turn that read them, instead of a hop to another thread and back
        // for every batch. A large round is built and concluded on the global executor, beside
        // the I/O thread writing the one before it. (Once the connection has closed for good,
        // its executor hands jobs to the global one.)
        drained = Task(executorPreference: publisher.connection.executor) { [pending] in
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
                        // Two calls, not one with an optional preference: a nil held in an
                        // optional variable did not keep this task's preference (measured).
                        if items.count > Self.inlineRoundLimit {
                            group.addTask(executorPreference: globalConcurrentExecutor) { await round.untilDone(items, retryInterval: retryInterval) }
                        } else {
                            group.addTask { await round.untilDone(items, retryInterval: retryInterval) }
                        }
                    }
                }
            }
        }
    }

    /// The most settlements a round takes on the publishing connection's I/O thread.
    static let inlineRoundLimit = 64

    /// Hands over a delivery's messages; the delivery is acked once all are confirmed.
    func submit(_ settlement: Settlement) {
        pending.append(settlement)
        wake.yield()
    }

    /// Waits until everything handed over is published and acked, and stops. Cancelling the
    /// caller stops retrying.
    func finish() async {
        wake.finish()
        let drained = self.drained
        await withTaskCancellationHandler { await drained.value } onCancel: { drained.cancel() }
    }

    /// Publishing settlements and deciding what becomes of each.
    private struct Round: Sendable {
        let publisher: Channel
        let ledger: RunLedger<Delivery>
        let metrics: WorkerMetrics
        let logger: Logger

        /// Publishes the settlements' messages, again for those not settled yet (every
        /// `retryInterval` while the connection is down, at once when isolating a refusal),
        /// until all are settled or the caller is cancelled (shutdown past its grace: what is
        /// held returns with the connection).
        func untilDone(_ items: [Settlement], retryInterval: Duration) async {
            var items = items
            while true {
                let retrying = await publish(items)
                metrics.settled(Self.countPerQueue(items, less: retrying))
                if retrying.isEmpty { return }
                if retrying.contains(where: { !$0.isolated }) {
                    guard (try? await Task.sleep(for: retryInterval)) != nil else { return }
                } else if Task.isCancelled {
                    return
                }
                items = retrying
            }
        }

        /// How many of `items` settled, per queue they were consumed from (a batch nearly always
        /// comes from one queue: counted without hashing its name for each item).
        static func countPerQueue(_ items: [Settlement], less retrying: [Settlement]) -> [String: Int] {
            var counts: [(queue: String, count: Int)] = []
            func add(_ queue: String, _ delta: Int) {
                if let index = counts.firstIndex(where: { $0.queue == queue }) { counts[index].count += delta }
                else { counts.append((queue, delta)) }
            }
            for item in items { add(item.consumedFrom, 1) }
            for item in retrying { add(item.consumedFrom, -1) }
            return Dictionary(uniqueKeysWithValues: counts.map { ($0.queue, $0.count) })
        }

        /// One round: the messages of settlements not isolated go as one batch, those of isolated
        /// ones one at a time. Returns the settlements to publish again.
        ///
        /// Settlements nacked in `NackRetry.newChannelFromRound` rounds already go on a new
        /// channel (`NackRetry`).
        private func publish(_ items: [Settlement]) async -> [Settlement] {
            var items = items
            let together = items.indices.filter { !items[$0].isolated }
            var batch: [(Int, Int)] = []
            var messages: [OutgoingMessage] = []
            batch.reserveCapacity(together.count)
            messages.reserveCapacity(together.count)
            for index in together {
                for slot in items[index].messages.indices where !items[index].messages[slot].confirmed {
                    batch.append((index, slot))
                    messages.append(items[index].messages[slot].message)
                }
            }
            let outcomes: [Result<Void, AMQPError>]
            if together.contains(where: { items[$0].nackedRounds >= NackRetry.newChannelFromRound }),
               let fresh = try? await publisher.connection.openChannel(confirms: true) {
                outcomes = await fresh.publishBatch(messages)
                try? await fresh.close()
            } else {
                outcomes = await publisher.publishBatch(messages)
            }
            var failures: [Int: [(Int, AMQPError)]] = [:]
            for (slot, outcome) in zip(batch, outcomes) {
                if case .failure(let error) = outcome { failures[slot.0, default: []].append((slot.1, error)) }
                else { items[slot.0].messages[slot.1].confirmed = true }
            }
            for index in items.indices where items[index].isolated {
                for message in items[index].pending {
                    let outcome = await publisher.publishBatch([items[index].messages[message].message])
                    if case .failure(let error) = outcome.first { failures[index, default: []].append((message, error)) }
                    else { items[index].messages[message].confirmed = true }
                }
            }
            var retry: [Settlement] = []
            for index in items.indices {
                if let again = conclude(items[index], failures: failures[index] ?? []) { retry.append(again) }
            }
            return retry
        }

        /// What becomes of one settlement after a round: settled (nil), or to publish again.
        private func conclude(_ item: Settlement, failures: [(Int, AMQPError)]) -> Settlement? {
            // The common case, without copying the settlement.
            if failures.isEmpty, item.isConfirmed {
                acknowledge(item)
                return nil
            }
            var item = item
            var transient = false
            var nacked = false
            var replacements: [SettlementMessage] = []
            var dropsResult = false
            for (index, error) in failures {
                let message = item.messages[index]
                var failure = PublishFailure(error, publishedAlone: item.isolated)
                if failure == .nacked, item.nackedRounds >= NackRetry.rounds { failure = .refused }
                switch failure {
                case .transient:
                    transient = true
                case .nacked:
                    nacked = true
                case .channelClosed:
                    item.isolated = true
                case .refused:
                    item.messages[index].confirmed = true  // settled: never published again
                    metrics.refused(role: message.role)
                    logger.error("the broker refused a message of a finished task; the task is not run again",
                                 metadata: ["task_id": "\(item.taskID)", "message": "\(message.role)", "error": "\(error)"])
                    let replacement = RefusalPolicy.replacement(for: message.role, error: error, result: item.result) { reason, text in
                        DeadLetter.copy(of: item.delivery, queue: item.queue, reason: reason, error: text)
                    }
                    replacements += replacement.messages
                    dropsResult = dropsResult || replacement.dropsUnconfirmedResult
                }
            }
            if dropsResult {
                for index in item.messages.indices where item.messages[index].role == .result { item.messages[index].confirmed = true }
            }
            item.messages += replacements
            if item.isConfirmed {
                acknowledge(item)
                return nil
            }
            guard item.delivery.isSettleable else {
                logger.warning("could not publish a result, and the task's delivery went with its connection; the task will be redelivered",
                               metadata: ["task_id": "\(item.taskID)"])
                release(ledger: item.key.map(ledger.abandoned) ?? [], queue: item.consumedFrom, requeue: true)
                return nil
            }
            if nacked {
                if item.nackedRounds == 0 {
                    logger.warning("the broker nacked a message of a finished task; publishing it again for a while (a queue leader may be changing)",
                                   metadata: ["task_id": "\(item.taskID)"])
                }
                item.nackedRounds += 1
            }
            if transient {
                if item.transientFailures == 0 {
                    logger.warning("could not publish a result; publishing it again once the broker is back",
                                   metadata: ["task_id": "\(item.taskID)", "error": "\(failures.first.map { "\($0.1)" } ?? "")"])
                }
                item.transientFailures += 1
            }
            return item
        }

        /// Everything confirmed: the delivery is acked, and so are copies of it held meanwhile.
        private func acknowledge(_ item: Settlement) {
            do {
                try item.delivery.ack()
            } catch {
                logger.warning("could not ack (the connection was replaced); the task will be redelivered",
                               metadata: ["task_id": "\(item.taskID)", "error": "\(error)"])
            }
            release(ledger: item.key.map(ledger.settled) ?? [], queue: item.consumedFrom, requeue: false)
        }

        /// Settles redelivered copies held while their run was under way: acked when it settled,
        /// returned to the queue when it did not.
        private func release(ledger held: [Delivery], queue: String, requeue: Bool) {
            for copy in held where copy.isSettleable {
                if requeue { try? copy.nack(requeue: true) } else { try? copy.ack() }
                metrics.settled(1, queue: queue)
                if !requeue { metrics.redeliverySkipped() }
            }
        }
    }
}

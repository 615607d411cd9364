import Foundation
import Logging
import RabbitMQ
import ServiceLifecycle
import WarrenCore
import WarrenMessaging

/// Turns the results consumer's deliveries into committed batches: a batch is written when it
/// holds `batchSize` results or its oldest result has waited `batchDelay`; then, and only then,
/// its deliveries are acknowledged (one `basic.ack(multiple)`).
struct ResultIngest {
    let configuration: BackendConfiguration
    let publishing: Channel
    let logger: Logger
    let metrics: BackendMetrics
    var writer: StoreWriter

    /// Largest result body stored; a bigger one is dead-lettered as `too-large`.
    static let maxResultBytes = TaskResult.largestBody

    private enum Event {
        case deliveries(DeliveryBatch)
        case tick
        case ended
    }

    /// Runs until the consumer ends (cancelled at shutdown); writes what is pending first.
    mutating func run(_ consumer: Consumer) async throws {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let delay = configuration.batchDelay
        let feeder = Task {
            for await batch in consumer.batches { continuation.yield(.deliveries(batch)) }
            continuation.yield(.ended)
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: delay)
                continuation.yield(.tick)
            }
        }
        defer {
            feeder.cancel()
            ticker.cancel()
        }
        var pending: [Delivery] = []
        var oldest = ContinuousClock.now
        for await event in events {
            switch event {
            case .deliveries(let batch):
                if pending.isEmpty { oldest = .now }
                pending.append(contentsOf: batch)
                // A workflow's next steps wait for this one's result: no batch delay for it.
                if batch.contains(where: { $0.properties.headers?[WireHeaders.workflow] != nil }) {
                    while !pending.isEmpty {
                        let count = min(pending.count, configuration.batchSize)
                        guard await flush(pending.prefix(count)) else { return }
                        pending.removeFirst(count)
                    }
                    oldest = .now
                    continue
                }
                while pending.count >= configuration.batchSize {
                    guard await flush(pending.prefix(configuration.batchSize)) else { return }
                    pending.removeFirst(configuration.batchSize)
                    oldest = .now
                }
            case .tick:
                if !pending.isEmpty, ContinuousClock.now - oldest >= delay {
                    guard await flush(pending[...]) else { return }
                    pending.removeAll(keepingCapacity: true)
                }
            case .ended:
                if !pending.isEmpty { _ = await flush(pending[...]) }
                if !Task.isShuttingDownGracefully {
                    throw BackendError("the consumer of \(WireNames.resultsQueue) was cancelled by the broker (queue deleted?)")
                }
                return
            }
        }
    }

    /// Stores `deliveries` and acknowledges them; false when shutdown interrupted it.
    private mutating func flush(_ deliveries: ArraySlice<Delivery>) async -> Bool {
        var results: [TaskResult] = []
        var resultDeliveries: [Delivery] = []
        results.reserveCapacity(deliveries.count)
        var rejected: [OutgoingMessage] = []
        for delivery in deliveries {
            if delivery.bodyCount > Self.maxResultBytes {
                rejected.append(DeadLetter.copy(of: delivery, queue: WireNames.resultsQueue, reason: "too-large",
                                                error: "a result of \(delivery.bodyCount) bytes is over the limit of \(Self.maxResultBytes)"))
                continue
            }
            do {
                results.append(try TaskResult.decode(delivery.body))
                resultDeliveries.append(delivery)
            } catch {
                rejected.append(DeadLetter.copy(of: delivery, queue: WireNames.resultsQueue, reason: "malformed", error: "\(error)"))
            }
        }
        if !rejected.isEmpty {
            guard await deadLetter(rejected) else { return false }
        }
        if !results.isEmpty {
            guard case .stored(let refused) = await writer.write(results) else { return false }
            // Stored but for these: they go to the dead-letter queue with the store's reason,
            // so the batch can be acknowledged and ingest goes on.
            let unstorable = refused.sorted { $0.key < $1.key }.map { index, reason in
                DeadLetter.copy(of: resultDeliveries[index], queue: WireNames.resultsQueue, reason: "unstorable", error: reason)
            }
            if !unstorable.isEmpty {
                guard await deadLetter(unstorable) else { return false }
            }
        }
        // The coordinator learns of each step that ended once its result is stored, before the
        // result is acknowledged: a crash between the two tells it twice, which it takes in stride.
        let events = results.compactMap { result -> OutgoingMessage? in
            guard let run = result.workflow, result.status.isFinal, result.status != .skipped,
                  let step = WorkflowDefinition.stepName(taskID: result.id, run: run) else { return nil }
            return WorkflowEvent.stepEnded(run: run, step: step).outgoing()
        }
        if !events.isEmpty {
            guard await publishConfirmed(events, what: "workflow step events to \(WireNames.workflowsQueue)") else { return false }
        }
        do {
            try deliveries.last?.ack(multiple: true)
        } catch {
            // The connection was replaced: the broker hands these out again, and storing them
            // twice leaves one record.
            logger.debug("acknowledgement of a stored batch dropped: \(error)")
        }
        return true
    }

    /// Publishes results that cannot be stored (unreadable, too large, refused by the store) to
    /// `warren.dead` with confirms, retrying until confirmed.
    private func deadLetter(_ messages: [OutgoingMessage]) async -> Bool {
        guard await publishConfirmed(messages, what: "results that cannot be stored to \(WireNames.deadLetterQueue)") else { return false }
        metrics.deadLettered(messages.count)
        logger.warning("dead-lettered \(messages.count) result message(s) that cannot be stored to \(WireNames.deadLetterQueue)",
                       metadata: ["reason": "\(messages.first?.properties.headers?[WireHeaders.deadLetterError] ?? .string(""))"])
        return true
    }

    /// Publishes `messages` with confirms, retrying until all are confirmed; false when
    /// shutdown came first.
    private func publishConfirmed(_ messages: [OutgoingMessage], what: String) async -> Bool {
        var backoff = Backoff(first: configuration.retryBackoff.first, longest: configuration.retryBackoff.longest)
        var pending = messages
        while true {
            let outcomes = await publishing.publishBatch(pending)
            let failures = zip(pending, outcomes).compactMap { message, outcome -> (OutgoingMessage, AMQPError)? in
                if case .failure(let error) = outcome { return (message, error) } else { return nil }
            }
            if failures.isEmpty { return true }
            pending = failures.map(\.0)
            logger.error("could not publish \(what): \(failures[0].1); retrying")
            let wait = backoff.step()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return false }
        }
    }
}

/// The backend cannot go on.
struct BackendError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

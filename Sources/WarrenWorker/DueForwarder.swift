import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// Moves delayed messages whose delay is over (`warren.due`) to their task queues.
///
/// The delay chain ends in one queue, `warren.due`, instead of routing straight into task queues:
/// the broker's own dead-lettering into a full queue (`reject-publish`) or one that lost its
/// binding would drop the message, or hold it and offer it again only every
/// `dead_letter_worker_publisher_confirm_timeout` (3 minutes by default, 32 at a time). Every
/// worker consumes `warren.due` and republishes each message to `warren.tasks`, mandatory and
/// confirmed, through the `ResultSettler`; the due message is acked once that is confirmed. A
/// queue that refuses it (full, or gone) makes the task end in `warren.dead-letter` (reason
/// `undeliverable`) with a final `failed` result saying why, never nowhere.
struct DueForwarder: Sendable {
    let settler: ResultSettler
    let workerName: String
    let metrics: WorkerMetrics
    let logger: Logger

    /// Hands one due delivery to the settler, as a forward to its queue.
    func forward(_ delivery: Delivery) {
        let properties = delivery.properties
        let queue = DelayChain.targetQueue(routingKey: delivery.routingKey) ?? ""
        let id = properties.messageID.flatMap { $0.isEmpty ? nil : $0 } ?? TaskMessage.newID()
        var unsent = TaskResult(id: id, task: properties.type ?? "unknown", queue: queue,
                                attempt: (try? TaskMessage.attempt(in: properties.headers ?? [:])) ?? 1, status: .failed)
        unsent.worker = workerName
        unsent.schedule = properties.headers?[WireHeaders.schedule]?.stringValue
        unsent.scheduledFor = properties.headers?[WireHeaders.scheduledFor]?.stringValue
        unsent.traceparent = properties.headers?[WireHeaders.traceparent]?.stringValue
        unsent.trigger = properties.headers?[WireHeaders.trigger]?.stringValue
        unsent.batch = properties.headers?[WireHeaders.batch]?.stringValue
        unsent.workflow = properties.headers?[WireHeaders.workflow]?.stringValue
        var forwarded = properties
        forwarded.headers?["x-death"] = nil
        forwarded.headers?["x-first-death-exchange"] = nil
        forwarded.headers?["x-first-death-queue"] = nil
        forwarded.headers?["x-first-death-reason"] = nil
        // It enters its queue now: its queue wait starts when its delay ended.
        forwarded.headers?[WireHeaders.publishedAt] = .int64(Date().millisecondsSince1970)
        let message = OutgoingMessage(body: delivery.body, exchange: WireNames.tasksExchange, routingKey: queue,
                                      properties: forwarded, mandatory: true)
        settler.submit(Settlement(delivery: delivery, queue: queue, consumedFrom: DelayChain.dueQueue, result: unsent,
                                  messages: [SettlementMessage(message, .forward)], key: nil))
    }
}

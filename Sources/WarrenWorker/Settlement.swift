import RabbitMQ
import WarrenCore

/// What a finished task hands to `ResultSettler`: its delivery, the messages to publish for it,
/// and what is needed to publish something else in their place if the broker refuses one.
struct Settlement: Sendable {
    var delivery: Delivery
    /// The task's queue (where a dead-letter copy says it came from).
    var queue: String
    /// The queue the delivery was consumed from: `queue`, or `warren.due` for a delayed task
    /// being forwarded (the worker's unsettled count per queue).
    var consumedFrom: String
    /// The result the messages carry, when there is one (a malformed message has one too).
    var result: TaskResult? { resultBox?.value }
    /// Boxed: a settlement is copied on its way through the settler, and a result has two
    /// dozen fields to retain and release with each copy.
    private let resultBox: ResultBox?
    var messages: [SettlementMessage]
    /// Which run this was, for the worker's ledger of runs (nil when the message had no id).
    var key: RunKey?
    /// Publish rounds that failed on a lost connection (the first one is logged).
    var transientFailures = 0
    /// Publish rounds in which the broker nacked one of these messages (the first one is logged).
    var nackedRounds = 0
    /// The broker closed the publishing channel while some of these messages were unconfirmed:
    /// they are published again one at a time, so the one that causes the close is found.
    var isolated = false

    init(delivery: Delivery, queue: String, consumedFrom: String? = nil, result: TaskResult?, messages: [SettlementMessage], key: RunKey?) {
        self.delivery = delivery
        self.queue = queue
        self.consumedFrom = consumedFrom ?? queue
        self.resultBox = result.map(ResultBox.init)
        self.messages = messages
        self.key = key
    }

    /// Indices of the messages not confirmed yet.
    var pending: [Int] { messages.indices.filter { !messages[$0].confirmed } }

    /// Whether the broker confirmed every message (the delivery can be acked).
    var isConfirmed: Bool { messages.allSatisfy(\.confirmed) }

    /// The task's id, for log lines only: decoding the properties costs more than the ack.
    var taskID: String { delivery.properties.messageID ?? "(none)" }
}

final class ResultBox: Sendable {
    let value: TaskResult
    init(_ value: TaskResult) { self.value = value }
}

/// One message of a settlement, what it is for, and whether the broker has confirmed it.
struct SettlementMessage: Sendable {
    enum Role: Sendable, Equatable {
        /// The task's result.
        case result
        /// A result published in place of one the broker refused: no output, no returned value.
        case fallbackResult
        /// The task's next attempt (straight to its queue, or through the delay chain).
        case retry
        /// The copy for `warren.dead`.
        case deadLetter
        /// A delayed message whose delay is over, on its way from `warren.due` to its queue.
        case forward
    }

    var message: OutgoingMessage
    var role: Role
    /// Confirmed by the broker: never published again.
    var confirmed = false

    init(_ message: OutgoingMessage, _ role: Role) {
        self.message = message
        self.role = role
    }
}

/// How a publish that the broker did not confirm failed, as far as settling it goes.
enum PublishFailure: Sendable, Equatable {
    /// The connection went (or was not there): publish it again once it is back.
    case transient
    /// The broker closed the channel: this message or another one in flight caused it.
    case channelClosed
    /// The broker nacked this message: published again for a while (`NackRetry`) before it
    /// counts as refused.
    case nacked
    /// The broker refused this message: returned (no queue for it), nacked past
    /// `NackRetry.rounds`, or the channel closed while it was the only message in flight.
    case refused

    init(_ error: AMQPError, publishedAlone: Bool) {
        switch error {
        // `cancelled`: the worker stopped waiting (shutdown past its grace); the delivery returns
        // with its connection, never acked for a message the broker did not take.
        case .notConnected, .connectionLost, .connectionClosed, .timeout, .closedByClient, .cancelled: self = .transient
        case .channelClosed: self = publishedAlone ? .refused : .channelClosed
        case .publishNacked: self = .nacked
        default: self = .refused
        }
    }
}

/// What a settlement does when the broker refuses one of its messages: never requeue the
/// delivery (its task would run again for a message that cannot be published, in a loop while
/// the cause lasts), but publish what still tells the truth.
enum RefusalPolicy {
    /// What to publish instead of `refused`, and which still unconfirmed messages of the
    /// settlement to drop because the replacement supersedes them.
    struct Replacement: Sendable {
        var messages: [SettlementMessage]
        var dropsUnconfirmedResult: Bool
    }

    /// - Parameters:
    ///   - result: the result the settlement carries.
    ///   - deadLetter: the delivery's copy for `warren.dead`, given a reason and an error.
    static func replacement(for refused: SettlementMessage.Role, error: AMQPError, result: TaskResult?,
                            deadLetter: (_ reason: String, _ error: String) -> OutgoingMessage) -> Replacement {
        switch refused {
        case .result:
            // The result without its output and value, as failed: the broker's limit is often
            // lower than Warren's own (`max_message_size`), or the result had something else it
            // refuses.
            guard var fallback = result else { return Replacement(messages: [], dropsUnconfirmedResult: false) }
            fallback.output = nil
            fallback.result = nil
            if fallback.status == .succeeded { fallback.status = .failed }
            fallback.error = "the broker refused the task's result (\(error)); published without its output and value"
                + (result?.error.map { "; the task's error: \($0)" } ?? "")
            return Replacement(messages: (try? fallback.outgoing()).map { [SettlementMessage($0, .fallbackResult)] } ?? [],
                               dropsUnconfirmedResult: false)
        case .retry, .forward:
            // The next attempt, or a task whose delay is over, cannot reach its queue (full, or
            // gone): the task ends here, in the dead-letter queue and with a final result,
            // rather than nowhere.
            let (code, reason) = refused == .retry
                ? ("retry-refused", "the broker refused its retry: \(error)")
                : ("undeliverable", "its delay was over but its queue did not take it: \(error)")
            var messages = [SettlementMessage(deadLetter(code, reason), .deadLetter)]
            if var final = result {
                final.status = .failed
                final.error = [final.error, reason].compactMap { $0 }.joined(separator: "; ")
                if let message = try? final.outgoing() { messages.append(SettlementMessage(message, .result)) }
            }
            return Replacement(messages: messages, dropsUnconfirmedResult: true)
        case .fallbackResult, .deadLetter:
            // Nothing smaller left to send: logged and counted, and the delivery is acked.
            return Replacement(messages: [], dropsUnconfirmedResult: false)
        }
    }
}

import DequeModule
import Foundation

/// Everything the I/O thread knows about one open channel.
final class ChannelState {
    /// A synchronous method sent and not yet answered. Replies come back in order per channel.
    struct PendingRPC {
        var request: RPCRequest
        var deadline: ContinuousClock.Instant
        var completion: RPCCompletion?
    }

    /// A message being assembled from its method, header and body frames.
    struct IncomingContent {
        enum Method {
            case deliver(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String)
            case `return`(code: UInt16, text: String, exchange: String, routingKey: String)
        }
        var method: Method
        var properties = BasicProperties()
        var bodySize = 0
        var body = Data()
        var headerSeen = false
    }

    let number: UInt16
    let confirms: Bool
    var prefetch: (count: UInt16, global: Bool)?
    var acknowledger: Acknowledger
    var pending = Deque<PendingRPC>()
    var confirmTracker = ConfirmTracker()
    var ackTracker = AckTracker()
    var consumers: [String: ConsumerRegistration] = [:]
    var incoming: IncomingContent?
    /// Deliveries read this turn, per consumer tag, handed out together at the end of the turn.
    var batches: [String: [Delivery]] = [:]
    /// Open on the broker (channel.open-ok seen, not closed since).
    var isOpen = false
    /// channel.open was sent on the current connection, so later frames on it are in order.
    var openSent = false
    /// Synchronous methods asked for before the channel was reopened; sent by `reopen`.
    var deferred: [(RPCRequest, RPCCompletion)] = []
    /// Closed by this client: forget it once channel.close-ok arrives.
    var closingByClient = false

    init(number: UInt16, confirms: Bool, inbox: Inbox) {
        self.number = number
        self.confirms = confirms
        self.acknowledger = Acknowledger(inbox: inbox, channel: number)
    }

    /// Starts a new generation after the channel was lost: fresh delivery tags, fresh sequence
    /// numbers. Consumers and waiting publishes carry over.
    func resetForReopen(inbox: Inbox) {
        acknowledger.markStale()
        acknowledger = Acknowledger(inbox: inbox, channel: number)
        ackTracker = AckTracker()
        incoming = nil
        batches.removeAll()
        isOpen = false
        openSent = false
    }
}

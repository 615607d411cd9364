import DequeModule
import Foundation

/// Everything the I/O thread knows about one open channel. Only the I/O thread touches it, so
/// dynamic exclusivity checks are turned off for its fields.
final class ChannelState {
    /// A synchronous method sent and not yet answered. Replies come back in order per channel.
    struct PendingRPC {
        var request: RPCRequest
        var deadline: ContinuousClock.Instant
        var completion: RPCCompletion?
    }

    /// The method frame that starts a message; its header and body frames follow.
    enum IncomingMethod {
        case deliver(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String)
        case `return`(code: UInt16, text: String, exchange: String, routingKey: String)
    }

    let number: UInt16
    let confirms: Bool
    @exclusivity(unchecked) var prefetch: (count: UInt16, global: Bool)? {
        didSet { ackTracker.strayLimit = AckTracker.strayLimit(prefetch: prefetch?.count) }
    }
    @exclusivity(unchecked) var acknowledger: Acknowledger
    @exclusivity(unchecked) var pending = Deque<PendingRPC>()
    @exclusivity(unchecked) var confirmTracker = ConfirmTracker()
    @exclusivity(unchecked) var ackTracker = AckTracker(strayLimit: AckTracker.strayLimit(prefetch: nil))
    @exclusivity(unchecked) var consumers: [String: ConsumerRegistration] = [:] {
        didSet { recentConsumer = nil }
    }
    /// The consumer of the previous delivery: nearly always the next one's too, and comparing
    /// an interned tag is cheaper than hashing it.
    @exclusivity(unchecked) private var recentConsumer: (tag: String, sink: DeliverySink)?
    // The message being assembled from its method, header and body frames.
    @exclusivity(unchecked) var incomingMethod: IncomingMethod?
    @exclusivity(unchecked) var incomingProperties = RawProperties()
    /// The string fields of `incomingProperties` (reused).
    @exclusivity(unchecked) var incomingPropertyBytes: [UInt8] = []
    @exclusivity(unchecked) var incomingBodySize = 0
    @exclusivity(unchecked) var incomingHeaderSeen = false
    /// Body bytes of a message that spans several body frames (reused up to
    /// `retainedBufferLimit`; a larger one is given back once its message is complete).
    @exclusivity(unchecked) var incomingBody: [UInt8] = []
    /// The most a channel keeps of buffers sized by one message (the body being assembled, the
    /// capacity reserved for the next batch): one large message must not cost memory for as
    /// long as the channel lives.
    static let retainedBufferLimit = 1 << 20
    /// Deliveries read since the last hand-out, per consumer. Usually one consumer per channel:
    /// a short array beats hashing the consumer tag per message.
    @exclusivity(unchecked) var batches: [(sink: DeliverySink, storage: DeliveryBatchStorage)] = []
    /// How large the last batch handed out was, to size the next one.
    @exclusivity(unchecked) var previousBatchSize = (bytes: 0, records: 0)
    /// Settlements arrived since the last ack flush.
    @exclusivity(unchecked) var needsAckFlush = false
    /// Open on the broker (channel.open-ok seen, not closed since).
    @exclusivity(unchecked) var isOpen = false
    /// channel.open was sent on the current connection, so later frames on it are in order.
    @exclusivity(unchecked) var openSent = false
    /// Synchronous methods asked for before the channel was reopened; sent by `reopen`.
    @exclusivity(unchecked) var deferred: [(RPCRequest, RPCCompletion)] = []
    /// Closed by this client: forget it once channel.close-ok arrives.
    @exclusivity(unchecked) var closingByClient = false

    init(number: UInt16, confirms: Bool, inbox: Inbox) {
        self.number = number
        self.confirms = confirms
        self.acknowledger = Acknowledger(inbox: inbox, channel: number)
    }

    /// Where deliveries for the consumer registered under `tag` go, if it is registered.
    func sink(forConsumer tag: String) -> DeliverySink? {
        if let recent = recentConsumer, recent.tag == tag { return recent.sink }
        guard let sink = consumers[tag]?.sink else { return nil }
        recentConsumer = (tag, sink)
        return sink
    }

    /// Starts a new generation after the channel was lost: fresh delivery tags, fresh sequence
    /// numbers. Consumers and waiting publishes carry over.
    func resetForReopen(inbox: Inbox) {
        acknowledger.markStale()
        acknowledger = Acknowledger(inbox: inbox, channel: number)
        ackTracker = AckTracker(strayLimit: ackTracker.strayLimit)
        incomingMethod = nil
        incomingHeaderSeen = false
        batches.removeAll()
        isOpen = false
        openSent = false
    }
}

import Synchronization

/// Settles deliveries of one channel generation. When the channel or its connection goes away
/// the generation becomes stale: the broker has requeued its deliveries, so their delivery tags
/// must never be acknowledged on the next channel, where they would mean other messages.
final class Acknowledger: Sendable {
    let inbox: Inbox
    let channel: UInt16
    private let stale = Atomic<Bool>(false)

    init(inbox: Inbox, channel: UInt16) {
        self.inbox = inbox
        self.channel = channel
    }

    var isStale: Bool { stale.load(ordering: .acquiring) }

    func markStale() { stale.store(true, ordering: .releasing) }

    func settle(_ tag: UInt64, _ kind: SettlementKind) throws(AMQPError) {
        if isStale { throw .staleDelivery }
        inbox.settle(Settlement(acknowledger: self, deliveryTag: tag, kind: kind))
    }
}

import DequeModule

/// Delivery tags of one channel, in delivery order, and how each was settled. Turns a run of
/// acknowledgements into one `basic.ack(multiple)`, while an acknowledgement that cannot join
/// the run (an older delivery is still being worked on) is sent alone so it frees its prefetch
/// slot at once.
struct AckTracker {
    enum Frame: Equatable {
        case ack(UInt64, multiple: Bool)
        case nack(UInt64, requeue: Bool)
        case reject(UInt64, requeue: Bool)
    }

    private var outstanding = Deque<UInt64>()
    /// Settled tags still in `outstanding`; the value says whether a frame was already sent.
    private var settled: [UInt64: Bool] = [:]

    var unsettledCount: Int { outstanding.count - settled.count }

    mutating func delivered(_ tag: UInt64) {
        outstanding.append(tag)
    }

    /// Records a settlement; nacks and rejects go out at once, acks wait for `flush`.
    mutating func settle(_ tag: UInt64, _ kind: SettlementKind) -> Frame? {
        guard settled[tag] == nil else { return nil }  // settled twice: ignore, never 406 the channel
        switch kind {
        case .ack:
            settled[tag] = false
            return nil
        case .nack(let requeue):
            settled[tag] = true
            return .nack(tag, requeue: requeue)
        case .reject(let requeue):
            settled[tag] = true
            return .reject(tag, requeue: requeue)
        }
    }

    /// The ack frames for everything settled since the last flush.
    mutating func flush() -> [Frame] {
        var frames: [Frame] = []
        var highestUnsent: UInt64?
        while let tag = outstanding.first, let sent = settled[tag] {
            outstanding.removeFirst()
            settled.removeValue(forKey: tag)
            if !sent { highestUnsent = tag }
        }
        if let highestUnsent { frames.append(.ack(highestUnsent, multiple: true)) }
        for (tag, sent) in settled where !sent {
            frames.append(.ack(tag, multiple: false))
            settled[tag] = true
        }
        return frames
    }
}

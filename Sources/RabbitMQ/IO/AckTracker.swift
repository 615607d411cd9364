import DequeModule

/// Delivery tags of one channel and how each was settled. Turns a run of acknowledgements into
/// one `basic.ack(multiple)`, while an acknowledgement that cannot join the run (an older
/// delivery is still being worked on) is sent alone so it frees its prefetch slot at once.
///
/// The broker numbers deliveries on a channel 1, 2, 3, …, so the outstanding ones are a
/// contiguous range: a ring of states indexed by `tag - first` needs no hashing.
struct AckTracker {
    enum Frame: Equatable {
        case ack(UInt64, multiple: Bool)
        case nack(UInt64, requeue: Bool)
        case reject(UInt64, requeue: Bool)
    }

    private enum State: UInt8 {
        case unsettled, ackedUnsent, sent
    }

    /// States of tags `first`, `first + 1`, …
    private var states = Deque<State>()
    private var first: UInt64 = 1
    private var settledCount = 0
    /// Acks that wait outside the settled prefix; when zero, `flush` scans nothing.
    private var strayAcks = 0

    var unsettledCount: Int { states.count - settledCount }

    mutating func delivered(_ tag: UInt64) {
        if states.isEmpty { first = tag }
        // Tags are consecutive; a gap would be a protocol violation, filled defensively.
        while first + UInt64(states.count) < tag { states.append(.sent); settledCount += 1 }
        states.append(.unsettled)
    }

    /// Records a settlement; nacks and rejects go out at once, acks wait for `flush`.
    mutating func settle(_ tag: UInt64, _ kind: SettlementKind) -> Frame? {
        guard tag >= first, tag - first < UInt64(states.count) else { return nil }
        let index = Int(tag - first)
        guard states[index] == .unsettled else { return nil }  // settled twice: ignore, never 406
        settledCount += 1
        switch kind {
        case .ack:
            states[index] = .ackedUnsent
            if index > 0 { strayAcks += 1 }
            return nil
        case .ackMultiple:
            states[index] = .ackedUnsent
            for earlier in states.indices.prefix(index) where states[earlier] == .unsettled {
                states[earlier] = .ackedUnsent
                settledCount += 1
            }
            return nil
        case .nack(let requeue):
            states[index] = .sent
            return .nack(tag, requeue: requeue)
        case .reject(let requeue):
            states[index] = .sent
            return .reject(tag, requeue: requeue)
        }
    }

    /// The ack frames for everything settled since the last flush.
    mutating func flush() -> [Frame] {
        var frames: [Frame] = []
        var highestUnsent: UInt64?
        while let state = states.first, state != .unsettled {
            if state == .ackedUnsent { highestUnsent = first }
            states.removeFirst()
            settledCount -= 1
            first += 1
        }
        if let highestUnsent { frames.append(.ack(highestUnsent, multiple: true)) }
        if strayAcks > 0 {
            for index in states.indices where states[index] == .ackedUnsent {
                frames.append(.ack(first + UInt64(index), multiple: false))
                states[index] = .sent
            }
            strayAcks = 0
        }
        return frames
    }
}

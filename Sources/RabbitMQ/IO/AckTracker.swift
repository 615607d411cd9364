import DequeModule

/// Delivery tags of one channel and how each was settled. Turns a run of acknowledgements into
/// one `basic.ack(multiple)`.
///
/// An ack that cannot join the run, because an older delivery is still being worked on (a
/// "stray"), waits for that delivery: with many tasks in flight they finish slightly out of
/// order, and the run usually closes within milliseconds, so one multiple ack covers them all
/// (each ack frame costs the broker's queue a round of work). A stray goes out alone, freeing
/// its prefetch slot, once it has waited `strayHold`, or at once when more than `strayLimit`
/// wait (the oldest go). So a long-running delivery holds back at most `strayLimit` finished
/// ones, less than half the window, for at most `strayHold`.
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

    /// The longest a stray ack waits for the deliveries before it.
    static let strayHold = Duration.milliseconds(50)

    /// How many stray acks may wait at once (set from the prefetch window).
    var strayLimit: Int

    init(strayLimit: Int = 0) {
        self.strayLimit = strayLimit
    }

    /// Less than half the prefetch window: 0 (no waiting) for windows of 1 and 2. Without a
    /// window (prefetch 0 or unset) strays cannot starve the consumer, so only `strayHold`
    /// sends them.
    static func strayLimit(prefetch: UInt16?) -> Int {
        guard let prefetch, prefetch > 0 else { return Int.max }
        return (Int(prefetch) - 1) / 2
    }

    /// States of tags `first`, `first + 1`, …
    private var states = Deque<State>()
    private var first: UInt64 = 1
    private var settledCount = 0
    /// Acks recorded and not yet sent, inside the settled prefix or not.
    private var unsentAcks = 0
    /// When the oldest waiting stray ack was first held back by a flush.
    private var strayHeldSince: ContinuousClock.Instant?

    /// When waiting stray acks must be sent, if any wait.
    var strayDeadline: ContinuousClock.Instant? { strayHeldSince.map { $0 + Self.strayHold } }

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
            unsentAcks += 1
            return nil
        case .ackMultiple:
            states[index] = .ackedUnsent
            unsentAcks += 1
            for earlier in states.indices.prefix(index) where states[earlier] == .unsettled {
                states[earlier] = .ackedUnsent
                settledCount += 1
                unsentAcks += 1
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

    /// The ack frames due now: one multiple ack for the settled prefix, and the stray acks if
    /// they are due (`force`: all of them, as before a channel close).
    mutating func flush(now: ContinuousClock.Instant, force: Bool = false) -> [Frame] {
        var frames: [Frame] = []
        var highestUnsent: UInt64?
        while let state = states.first, state != .unsettled {
            if state == .ackedUnsent {
                highestUnsent = first
                unsentAcks -= 1
            }
            states.removeFirst()
            settledCount -= 1
            first += 1
        }
        if let highestUnsent { frames.append(.ack(highestUnsent, multiple: true)) }
        let allDue = force || strayDeadline.map { now >= $0 } ?? false
        if allDue || unsentAcks > strayLimit {
            // Over the limit: the oldest go out alone, and the rest keep waiting for the run.
            var excess = allDue ? unsentAcks : unsentAcks - strayLimit
            for index in states.indices where excess > 0 && states[index] == .ackedUnsent {
                frames.append(.ack(first + UInt64(index), multiple: false))
                states[index] = .sent
                excess -= 1
                unsentAcks -= 1
            }
        }
        strayHeldSince = unsentAcks > 0 ? (strayHeldSince ?? now) : nil
        return frames
    }
}


import DequeModule

/// Publisher confirms of one channel: which publishes are unconfirmed, and the ones waiting for
/// room in the window (or for the broker to unblock the connection). Sequence numbers are
/// consecutive, so the unconfirmed ones live in a ring indexed by `sequence - lowest`.
struct ConfirmTracker {
    struct Pending {
        var publication: Publication
        var returned: AMQPError?
        /// Its caller stopped waiting and was told so: the confirm only frees its window slot.
        var abandoned = false
    }

    /// Publishes `lowest`, `lowest + 1`, …; nil once confirmed out of order.
    private var unconfirmed = Deque<Pending?>()
    /// Sequence number of `unconfirmed.first`.
    private var lowest: UInt64 = 1
    private(set) var inFlight = 0
    var waiting = Deque<Publication>()

    /// Sequence number of the next publish on this channel (1-based, per AMQP).
    var nextSequence: UInt64 { lowest + UInt64(unconfirmed.count) }

    mutating func sent(_ publication: Publication) {
        unconfirmed.append(Pending(publication: publication))
        inFlight += 1
    }

    /// Marks the oldest unconfirmed publish matching a `basic.return` as returned; the broker
    /// sends the return just before the confirm of the same message.
    mutating func returned(exchange: String, routingKey: String, messageID: String?, error: AMQPError) {
        for index in unconfirmed.indices {
            guard let pending = unconfirmed[index], pending.returned == nil,
                  pending.publication.exchange == exchange, pending.publication.routingKey == routingKey,
                  messageID == nil || pending.publication.properties.messageID == messageID else { continue }
            unconfirmed[index]!.returned = error
            return
        }
    }

    /// Resolves `basic.ack` / `basic.nack`; calls each resolved publish's completion.
    mutating func confirm(tag: UInt64, multiple: Bool, ack: Bool) {
        func resolve(_ pending: Pending) {
            inFlight -= 1
            if pending.abandoned {
                return
            } else if !ack {
                pending.publication.complete(.failure(.publishNacked))
            } else if let returned = pending.returned {
                pending.publication.complete(.failure(returned))
            } else {
                pending.publication.complete(.success(()))
            }
        }
        guard tag >= lowest else { return }
        if multiple {
            while lowest <= tag, let entry = unconfirmed.first {
                unconfirmed.removeFirst()
                lowest += 1
                if let pending = entry { resolve(pending) }
            }
        } else if tag - lowest < UInt64(unconfirmed.count) {
            let index = Int(tag - lowest)
            if let pending = unconfirmed[index] {
                unconfirmed[index] = nil
                resolve(pending)
            }
        }
        while let entry = unconfirmed.first, entry == nil {
            unconfirmed.removeFirst()
            lowest += 1
        }
    }

    /// Takes the publishes of a cancelled caller: those waiting are dropped unsent, those
    /// unconfirmed stay (their confirms still count against the window) but are no longer
    /// reported. The caller fails them.
    mutating func abandon(_ cancellation: PublishCancellation) -> [Publication] {
        var abandoned: [Publication] = []
        waiting.removeAll { publication in
            guard publication.cancellation === cancellation else { return false }
            abandoned.append(publication)
            return true
        }
        for index in unconfirmed.indices {
            guard let pending = unconfirmed[index], !pending.abandoned, pending.publication.cancellation === cancellation else {
                continue
            }
            unconfirmed[index]!.abandoned = true
            abandoned.append(pending.publication)
        }
        return abandoned
    }

    /// Takes every unconfirmed publish (their fate is unknown) and restarts numbering for a new
    /// channel; the caller fails them.
    mutating func takeUnconfirmed() -> [Publication] {
        let publications = unconfirmed.compactMap { $0.flatMap { $0.abandoned ? nil : $0.publication } }
        unconfirmed.removeAll()
        lowest = 1
        inFlight = 0
        return publications
    }
}

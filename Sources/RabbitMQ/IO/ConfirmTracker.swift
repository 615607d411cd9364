import DequeModule

/// Publisher confirms of one channel: which publishes are unconfirmed, and the ones waiting for
/// room in the window (or for the broker to unblock the connection).
struct ConfirmTracker {
    struct Pending {
        var publication: Publication
        var returned: AMQPError?
    }

    /// Unconfirmed publishes by sequence number.
    private(set) var unconfirmed: [UInt64: Pending] = [:]
    /// Lowest sequence number that may still be unconfirmed.
    private var lowest: UInt64 = 1
    /// Sequence number of the next publish on this channel (1-based, per AMQP).
    private(set) var nextSequence: UInt64 = 1
    var waiting = Deque<Publication>()

    var inFlight: Int { unconfirmed.count }

    mutating func sent(_ publication: Publication) {
        unconfirmed[nextSequence] = Pending(publication: publication)
        nextSequence += 1
    }

    /// Marks the oldest unconfirmed publish matching a `basic.return` as returned; the broker
    /// sends the return just before the confirm of the same message.
    mutating func returned(exchange: String, routingKey: String, messageID: String?, error: AMQPError) {
        var sequence = lowest
        while sequence < nextSequence {
            if let pending = unconfirmed[sequence], pending.returned == nil,
               pending.publication.exchange == exchange, pending.publication.routingKey == routingKey,
               messageID == nil || pending.publication.properties.messageID == messageID {
                unconfirmed[sequence]!.returned = error
                return
            }
            sequence += 1
        }
    }

    /// Resolves `basic.ack` / `basic.nack`; returns the completions to call with their outcome.
    mutating func confirm(tag: UInt64, multiple: Bool, ack: Bool) -> [(PublishCompletion, Result<Void, AMQPError>)] {
        var resolved: [(PublishCompletion, Result<Void, AMQPError>)] = []
        func resolve(_ sequence: UInt64) {
            guard let pending = unconfirmed.removeValue(forKey: sequence) else { return }
            if !ack {
                resolved.append((pending.publication.completion, .failure(.publishNacked)))
            } else if let returned = pending.returned {
                resolved.append((pending.publication.completion, .failure(returned)))
            } else {
                resolved.append((pending.publication.completion, .success(())))
            }
        }
        if multiple {
            var sequence = lowest
            while sequence <= tag { resolve(sequence); sequence += 1 }
        } else {
            resolve(tag)
        }
        while lowest < nextSequence && unconfirmed[lowest] == nil { lowest += 1 }
        return resolved
    }

    /// Fails every unconfirmed publish (its fate is unknown) and restarts numbering for a new channel.
    mutating func failUnconfirmed() -> [PublishCompletion] {
        let completions = unconfirmed.keys.sorted().map { unconfirmed[$0]!.publication.completion }
        unconfirmed.removeAll()
        lowest = 1
        nextSequence = 1
        return completions
    }
}

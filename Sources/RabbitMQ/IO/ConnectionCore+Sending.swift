import CRabbitMQ
import Foundation
import Logging

/// Synchronous methods, publishes, acknowledgements and heartbeats going out (I/O thread).
extension ConnectionCore {
    // MARK: - Sending

    func sendRPC(_ request: RPCRequest, on channel: ChannelState, completion: RPCCompletion?) {
        guard let encoder else {
            completion?(.failure(.notConnected))
            return
        }
        switch request {
        case .channelClose:
            // Settlements waiting to be flushed go first: once the broker has answered the close,
            // any frame on this channel number is a connection error (504 CHANNEL_ERROR).
            for frame in channel.ackTracker.flush(now: .now, force: true) {
                if encoder.send(frame, on: channel.number) != AMQP_STATUS_OK.rawValue { break }
            }
            channel.closingByClient = true
        case .channelOpen: channel.openSent = true
        default: break
        }
        let status = encoder.send(request, on: channel.number)
        sentThisTurn = true
        channel.pending.append(.init(request: request, deadline: .now + configuration.operationTimeout, completion: completion))
        if status != AMQP_STATUS_OK.rawValue {
            connectionFailed(Self.libraryError(status))
        }
    }

    func sendWaitingPublishes(on channel: ChannelState) {
        guard let encoder, !blocked, channel.openSent else { return }
        let window = configuration.publishWindow
        while !channel.confirmTracker.waiting.isEmpty {
            if channel.confirms && channel.confirmTracker.inFlight >= window { return }
            let publication = channel.confirmTracker.waiting.removeFirst()
            let status = encoder.publish(publication, on: channel.number)
            sentThisTurn = true
            if status != AMQP_STATUS_OK.rawValue {
                let error = Self.libraryError(status)
                publication.complete(.failure(.connectionLost(reason: error.description)))
                connectionFailed(error)
                return
            }
            if channel.confirms {
                channel.confirmTracker.sent(publication)
            } else {
                publication.complete(.success(()))
            }
        }
    }

    func handle(_ settlement: Settlement) {
        guard let encoder, let channel = channel(settlement.acknowledger.channel),
              channel.acknowledger === settlement.acknowledger else { return }  // stale: broker requeued it
        guard !channel.closingByClient else { return }  // the close returns its deliveries to their queues
        if let frame = channel.ackTracker.settle(settlement.deliveryTag, settlement.kind) {
            let status = encoder.send(frame, on: channel.number)
            sentThisTurn = true
            if status != AMQP_STATUS_OK.rawValue { return connectionFailed(Self.libraryError(status)) }
        }
        markForAckFlush(channel)
    }

    /// Lazy acks must wake the I/O thread before a consumer's prefetch window runs dry.
    func updateWakeThreshold() {
        let windows = channels.values.compactMap { $0.prefetch.map { Int($0.count) } }.filter { $0 > 0 }
        inbox.setWakeThreshold(prefetch: windows.min())
        // Never hold back a batch the prefetch window cannot grow.
        handOutBatch = windows.min().map { max(1, min(256, $0 / 2)) } ?? 256
    }

    func markForAckFlush(_ channel: ChannelState) {
        if !channel.needsAckFlush {
            channel.needsAckFlush = true
            touchedChannels.append(channel)
        }
    }

    /// Sends the acks due (`force`: all, stray ones included) on every channel settled since.
    func flushAcks(now: ContinuousClock.Instant, force: Bool = false) {
        guard !touchedChannels.isEmpty else { return }
        let touched = touchedChannels
        touchedChannels.removeAll(keepingCapacity: true)
        for channel in touched {
            channel.needsAckFlush = false
            guard let encoder, channels[channel.number] === channel, !channel.closingByClient else { continue }
            for frame in channel.ackTracker.flush(now: now, force: force) {
                let status = encoder.send(frame, on: channel.number)
                sentThisTurn = true
                if status != AMQP_STATUS_OK.rawValue { return connectionFailed(Self.libraryError(status)) }
            }
            // Stray acks held back: flush again on a later turn, by their deadline at the latest.
            if channel.ackTracker.strayDeadline != nil { markForAckFlush(channel) }
        }
    }

    /// When the earliest held-back stray ack is due.
    func nearestStrayAckDeadline() -> ContinuousClock.Instant? {
        touchedChannels.lazy.compactMap(\.ackTracker.strayDeadline).min()
    }

    /// Writes the publishes coalesced during this turn.
    func flushWrites() {
        guard let encoder else { return }
        let status = encoder.flush()
        if status != AMQP_STATUS_OK.rawValue { connectionFailed(Self.libraryError(status)) }
    }

    func sendHeartbeatIfIdle(now: ContinuousClock.Instant) {
        if sentThisTurn {
            lastSend = now
            sentThisTurn = false
            return
        }
        guard let session, let encoder, session.heartbeatSeconds > 0 else { return }
        // librabbitmq sends heartbeats from its read path; this covers turns where the socket
        // always had data buffered and the library never reached that path.
        if now - lastSend >= .milliseconds(session.heartbeatSeconds * 500) {
            let status = encoder.sendHeartbeat()
            lastSend = now
            if status != AMQP_STATUS_OK.rawValue { connectionFailed(Self.libraryError(status)) }
        }
    }

    func nearestRPCDeadline() -> ContinuousClock.Instant? {
        blocked ? nil : channels.values.compactMap { $0.pending.first?.deadline }.min()
    }

    func expireRPCs(now: ContinuousClock.Instant) {
        // A blocked connection is not read by the broker until it unblocks: nothing can be
        // answered meanwhile, and giving up would only trade the block for a reconnect.
        guard !blocked else { return }
        for channel in channels.values {
            guard let first = channel.pending.first, first.deadline <= now else { continue }
            channel.pending.removeFirst()
            let error = AMQPError.timeout(operation: first.request.name)
            first.completion?(.failure(error))
            // The reply may still come and would be matched to the wrong request: start over.
            connectionFailed(error)
            return
        }
    }
}

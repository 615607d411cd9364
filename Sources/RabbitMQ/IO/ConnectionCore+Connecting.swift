import CRabbitMQ
import Foundation
import Logging

/// Connecting, restoring topology and channels after a reconnect, and losing the connection
/// (I/O thread).
extension ConnectionCore {
    // MARK: - Connecting

    func connectToAnyEndpoint() throws(AMQPError) {
        let endpoints = configuration.endpoints
        var lastError = AMQPError.connectionFailed(endpoint: "(none)", reason: "no endpoint configured")
        for offset in 0..<endpoints.count {
            let index = (nextEndpoint + offset) % endpoints.count
            do {
                let session = try Session.open(endpoints[index], configuration: configuration, arena: arena)
                nextEndpoint = (index + 1) % endpoints.count
                established(session)
                return
            } catch {
                logger.warning("cannot connect", metadata: ["endpoint": "\(endpoints[index])", "error": "\(error)"])
                lastError = error
            }
        }
        nextEndpoint = (nextEndpoint + 1) % max(endpoints.count, 1)
        throw lastError
    }

    func attemptReconnect() {
        do {
            try connectToAnyEndpoint()
            reconnectAttempt = 0
            reconnectAt = nil
        } catch {
            let delay = configuration.reconnect.delay(attempt: reconnectAttempt)
            reconnectAttempt += 1
            reconnectAt = ContinuousClock.now + delay
        }
    }

    func established(_ session: Session) {
        self.session = session
        self.encoder = MethodEncoder(session: session, arena: arena)
        socketMayHaveData = true
        lastSend = .now
        status.withLock { status in
            status.endpoint = session.endpoint
            status.serverInfo = session.serverInfo
            status.connected = true
            status.blocked = false
            if hasConnectedBefore { status.reconnects += 1 }
        }
        hasConnectedBefore = true
        logger.info("connected", metadata: ["endpoint": "\(session.endpoint)", "heartbeat": "\(session.heartbeatSeconds)s"])
        eventContinuation.yield(.connected(session.endpoint))
        restoreTopology()
    }

    /// Re-declares recorded topology on the topology channel, then reopens every caller channel
    /// with its consumers, so queues exist before consumers subscribe to them.
    func restoreTopology() {
        // Only channels that exist now need reopening; ones opened later open themselves.
        let toReopen = channels.keys.filter { $0 != Self.topologyChannel }.sorted()
        let channel = ChannelState(number: Self.topologyChannel, confirms: false, inbox: inbox)
        channels[Self.topologyChannel] = channel
        sendRPC(.channelOpen, on: channel, completion: nil)
        restore(topology.declarations[...]) { [self] in restoreCallerChannels(toReopen) }
    }

    /// Declares `declarations` on the topology channel one after another, then calls `done`. A
    /// refused one is logged and the rest are still declared: the refusal closes the channel,
    /// `channelClosedByBroker` reopens it, and the next declaration waits for that (`deferred`).
    /// One at a time, as the broker discards unseen whatever was pipelined behind a refusal.
    func restore(_ declarations: ArraySlice<RecordedTopology.Declaration>, then done: @escaping @Sendable () -> Void) {
        guard let declaration = declarations.first else { return done() }
        // Gone with the connection: the next one starts over.
        guard session != nil, let channel = channels[Self.topologyChannel] else { return }
        let request = RecordedTopology.request(for: declaration)
        let next: RPCCompletion = { [self] result in
            if case .failure(let error) = result {
                if case .connectionLost = error { return }  // restored again on the next connection
                logger.error("cannot restore topology", metadata: ["declaration": "\(declaration)", "error": "\(error)"])
            }
            restore(declarations.dropFirst(), then: done)
        }
        if channel.openSent {
            sendRPC(request, on: channel, completion: next)
        } else {
            channel.deferred.append((request, next))
        }
    }

    func restoreCallerChannels(_ numbers: [UInt16]) {
        guard session != nil else { return }
        for number in numbers {
            if let channel = channels[number], !channel.openSent { reopen(channel) }
        }
    }

    /// Opens a channel on the broker again with its confirm mode, prefetch and consumers, then
    /// sends the publishes that waited for it.
    func reopen(_ channel: ChannelState) {
        sendRPC(.channelOpen, on: channel, completion: nil)
        if channel.confirms { sendRPC(.confirmSelect, on: channel, completion: nil) }
        if let prefetch = channel.prefetch {
            sendRPC(.qos(prefetchCount: prefetch.count, global: prefetch.global), on: channel, completion: nil)
        }
        for registration in channel.consumers.values.sorted(by: { $0.tag < $1.tag }) {
            subscribe(registration, on: channel, completion: nil)
        }
        let deferred = channel.deferred
        channel.deferred.removeAll()
        for (request, completion) in deferred { sendRPC(request, on: channel, completion: completion) }
        sendWaitingPublishes(on: channel)
    }

    // MARK: - Losing the connection

    /// Tears down the session after a failure; everything in flight fails with `connectionLost`.
    func connectionFailed(_ error: AMQPError) {
        guard let session else { return }
        logger.warning("connection lost", metadata: ["endpoint": "\(session.endpoint)", "error": "\(error)"])
        self.session = nil
        self.encoder = nil
        session.destroy()
        blocked = false
        pendingDeliveries = 0
        pendingSince = nil
        status.withLock {
            $0.connected = false
            $0.blocked = false
        }
        eventContinuation.yield(.disconnected(error))
        let lost = AMQPError.connectionLost(reason: error.description)
        channels[Self.topologyChannel] = nil
        // Acks not yet sent are for deliveries the broker now requeues: dropped with the channels'
        // trackers. Every channel starts unmarked, or one left marked but off the list (an ack
        // write that failed midway through `flushAcks`) would never have its acks sent again.
        touchedChannels.removeAll()
        for number in channels.keys.sorted() {
            guard let channel = channels[number] else { continue }
            failEverything(on: channel, with: lost)
            channel.resetForReopen(inbox: inbox)
            channel.needsAckFlush = false
            if channel.closingByClient {
                forget(channel)
            }
        }
        if configuration.reconnect.enabled && !exitRequested {
            reconnectAt = ContinuousClock.now + configuration.reconnect.delay(attempt: reconnectAttempt)
            reconnectAttempt += 1
        } else {
            dead = true
            for channel in channels.values { forget(channel) }
        }
    }

    func failEverything(on channel: ChannelState, with error: AMQPError) {
        let pending = channel.pending
        channel.pending.removeAll()
        for rpc in pending { rpc.completion?(.failure(error)) }
        for publication in channel.confirmTracker.takeUnconfirmed() { publication.complete(.failure(error)) }
        let waiting = channel.confirmTracker.waiting
        channel.confirmTracker.waiting.removeAll()
        for publication in waiting { publication.complete(.failure(error)) }
        let deferred = channel.deferred
        channel.deferred.removeAll()
        for (_, completion) in deferred { completion(.failure(error)) }
    }

    /// Removes a channel for good: its consumers end, its deliveries become stale.
    func forget(_ channel: ChannelState) {
        channel.acknowledger.markStale()
        for registration in channel.consumers.values { registration.sink.finish() }
        let consumed = channel.consumers.values.map(\.queue)
        channel.consumers.removeAll()
        failEverything(on: channel, with: .closedByClient)
        channels[channel.number] = nil
        forgetDeletedAutoDeleteQueues(consumed)
    }

    /// The broker deletes an auto-delete queue when its last consumer goes: such a queue among
    /// `queues` that no consumer of this connection uses any more is forgotten with its bindings,
    /// so that a reconnection does not declare it again (a process waiting on many private queues
    /// one after another would otherwise keep every one of them, and re-create them all).
    func forgetDeletedAutoDeleteQueues(_ queues: [String]) {
        for queue in Set(queues) where topology.isAutoDeleteQueue(queue) {
            let stillConsumed = channels.values.contains { $0.consumers.values.contains { $0.queue == queue } }
            if !stillConsumed { topology.forgetQueue(queue) }
        }
    }

    func shutdown() {
        // Settlements taken in the same turn as the close request must still reach the broker,
        // or deliveries already handled would return to their queues.
        flushAcks(now: .now, force: true)
        flushWrites()
        if let session {
            session.close()
            self.session = nil
            self.encoder = nil
        }
        let (commands, jobs) = inbox.close()
        for command in commands { fail(command, with: .closedByClient) }
        for job in jobs { executor.forward(job) }
        for channel in channels.values { forget(channel) }
        status.withLock { $0.connected = false }
        eventContinuation.finish()
        for completion in closeCompletions { completion() }
        closeCompletions.removeAll()
    }

    func fail(_ command: Command, with error: AMQPError) {
        switch command {
        case .openChannel(_, _, let completion), .rpc(_, _, let completion), .consume(_, _, let completion):
            completion(.failure(error))
        case .publish(_, let publication):
            publication.complete(.failure(error))
        case .publishBatch(_, let publications):
            for publication in publications { publication.complete(.failure(error)) }
        case .cancelConsumer(_, _, let completion):
            completion?(.failure(error))
        case .abandonPublishes:
            break
        case .close(let completion):
            completion()
        }
    }
}

import CRabbitMQ
import Foundation
import Logging

/// Frames coming in: deliveries, returns, confirms, replies and broker-initiated closes
/// (I/O thread).
extension ConnectionCore {
    // MARK: - Receiving

    func readFrames() -> Int {
        guard let session else { return 0 }
        // On plain TCP, once librabbitmq's buffer is empty the socket is left to `poll`: asking
        // the library again would cost a failing recv and a poll per turn.
        let leaveDrainedSocketToPoll = session.usesPlainSocket
        func bufferEmpty() -> Bool {
            amqp_data_in_buffer(session.state) == 0 && amqp_frames_enqueued(session.state) == 0
        }
        if leaveDrainedSocketToPoll {
            guard socketMayHaveData || !bufferEmpty() else { return 0 }
            socketMayHaveData = false
        }
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        var count = 0
        while count < 20_000 {
            let empty = bufferEmpty()
            if leaveDrainedSocketToPoll && count > 0 && empty { break }
            // Always a zero timeout, never none: librabbitmq consumes heartbeat frames itself and
            // then goes on reading, so with only a heartbeat buffered (one that came right behind
            // another frame) and no timeout it would wait in the socket for the broker's next
            // frame, the commands waiting to be sent with it: a connection waiting for a reply
            // would wait forever. With a zero timeout it returns, and the commands go out.
            let status = amqp_simple_wait_frame_noblock(session.state, &frame, &immediately)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionFailed(Self.libraryError(status))
                return count
            }
            count += 1
            handle(frame)
            guard self.session === session else { return count }
        }
        amqp_maybe_release_buffers(session.state)
        return count
    }

    func channel(_ number: UInt16) -> ChannelState? {
        if let recent = recentChannel, recent.number == number { return recent }
        recentChannel = channels[number]
        return recentChannel
    }

    func handle(_ frame: amqp_frame_t) {
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            handleMethod(frame.payload.method, channel: frame.channel)
        case AMQP_FRAME_HEADER:
            guard let channel = channel(frame.channel), channel.incomingMethod != nil else { return }
            // Copied now: the frame's memory is released at the end of this turn, and the body
            // may come in a later one.
            channel.incomingPropertyBytes.removeAll(keepingCapacity: true)
            if let decoded = frame.payload.properties.decoded {
                channel.incomingProperties = RawProperties(
                    decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee,
                    appendingTo: &channel.incomingPropertyBytes)
            } else {
                channel.incomingProperties = RawProperties()
            }
            channel.incomingBodySize = Int(frame.payload.properties.body_size)
            channel.incomingHeaderSeen = true
            channel.incomingBody.removeAll(keepingCapacity: true)
            if channel.incomingBodySize == 0 { completeContent(on: channel, singleFrame: nil) }
        case AMQP_FRAME_BODY:
            guard let channel = channel(frame.channel), channel.incomingHeaderSeen else { return }
            let fragment = UnsafeRawBufferPointer(start: frame.payload.body_fragment.bytes, count: frame.payload.body_fragment.len)
            if channel.incomingBody.isEmpty && fragment.count == channel.incomingBodySize {
                completeContent(on: channel, singleFrame: fragment)  // the usual case: one body frame
            } else {
                channel.incomingBody.append(contentsOf: fragment)
                // Each body frame took a page of the channel's pool in librabbitmq, and the pool
                // keeps its pages until the channel closes. The bytes are copied: recycled now,
                // a message in N frames costs the pool one page, not N.
                if let session { amqp_maybe_release_buffers_on_channel(session.state, frame.channel) }
                if channel.incomingBody.count >= channel.incomingBodySize {
                    completeContent(on: channel, singleFrame: nil)
                    if channel.incomingBody.capacity > ChannelState.retainedBufferLimit { channel.incomingBody = [] }
                }
            }
        default:
            break
        }
    }

    /// A message is complete: file a delivery into its consumer's batch, or a return against
    /// its publish. The body is `singleFrame` when it came in one frame, else the channel's
    /// scratch buffer.
    func completeContent(on channel: ChannelState, singleFrame: UnsafeRawBufferPointer?) {
        guard let method = channel.incomingMethod.take() else { return }
        channel.incomingHeaderSeen = false
        let properties = channel.incomingProperties
        switch method {
        case .deliver(let consumerTag, let deliveryTag, let redelivered, let exchange, let routingKey):
            channel.ackTracker.delivered(deliveryTag)
            guard let sink = channel.sink(forConsumer: consumerTag) else {
                // Arrived after this client cancelled the consumer: give it back to the queue. A
                // stream keeps every message anyway and closes the connection over a reject or
                // nack (540 NOT_IMPLEMENTED); its deliveries, which carry `x-stream-offset`, are acked.
                let fromStream = properties.headers?["x-stream-offset"] != nil
                if let frame = channel.ackTracker.settle(deliveryTag, fromStream ? .ack : .reject(requeue: true)), let encoder {
                    _ = encoder.send(frame, on: channel.number)
                    sentThisTurn = true
                }
                markForAckFlush(channel)
                return
            }
            let storage: DeliveryBatchStorage
            if let existing = channel.batches.first(where: { $0.sink === sink }) {
                storage = existing.storage
            } else {
                storage = DeliveryBatchStorage(acknowledger: channel.acknowledger, consumerTag: consumerTag)
                // Sized like the channel's previous batch: growing by doubling copied every
                // batch's bytes several times. Not beyond the retained limit: one large message
                // must not make every later batch reserve its size.
                storage.bytes.reserveCapacity(min(channel.previousBatchSize.bytes, ChannelState.retainedBufferLimit))
                storage.records.reserveCapacity(channel.previousBatchSize.records)
                channel.batches.append((sink, storage))
            }
            let propertiesStart = storage.bytes.count
            storage.bytes.append(contentsOf: channel.incomingPropertyBytes)
            let bodyStart = storage.bytes.count
            if let singleFrame {
                storage.bytes.append(contentsOf: singleFrame)
            } else {
                storage.bytes.append(contentsOf: channel.incomingBody)
            }
            storage.records.append(.init(propertiesStart: propertiesStart, bodyStart: bodyStart,
                                         bodyCount: storage.bytes.count - bodyStart, deliveryTag: deliveryTag,
                                         redelivered: redelivered, exchange: exchange, routingKey: routingKey,
                                         properties: properties))
            pendingDeliveries += 1  // pendingSince is set after the read
        case .return(let code, let text, let exchange, let routingKey):
            channel.confirmTracker.returned(
                exchange: exchange, routingKey: routingKey, messageID: returnedMessageID(properties, on: channel),
                error: .returned(code: code, text: text, exchange: exchange, routingKey: routingKey))
        }
    }

    func returnedMessageID(_ properties: RawProperties, on channel: ChannelState) -> String? {
        channel.incomingPropertyBytes.withUnsafeBytes { properties.decode($0).messageID }
    }

    func handOutDeliveries() {
        pendingDeliveries = 0
        pendingSince = nil
        for channel in channels.values where !channel.batches.isEmpty {
            let batches = channel.batches
            channel.batches.removeAll(keepingCapacity: true)
            for (sink, storage) in batches {
                channel.previousBatchSize = (storage.bytes.count, storage.records.count)
                sink.yield(DeliveryBatch(storage: storage))
            }
        }
    }

    func handleMethod(_ method: amqp_method_t, channel number: UInt16) {
        let id = method.id
        let decoded = method.decoded
        if number == 0 {
            handleConnectionMethod(id, decoded)
            return
        }
        guard let channel = channel(number) else {
            logger.debug("method on unknown channel", metadata: ["channel": "\(number)", "method": "\(id)"])
            return
        }
        switch id {
        case AMQP_BASIC_DELIVER_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            channel.incomingMethod = .deliver(
                consumerTag: interner.string(m.consumer_tag), deliveryTag: m.delivery_tag, redelivered: m.redelivered != 0,
                exchange: interner.string(m.exchange), routingKey: interner.string(m.routing_key))
            channel.incomingHeaderSeen = false
        case AMQP_BASIC_RETURN_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            channel.incomingMethod = .return(
                code: m.reply_code, text: m.reply_text.string, exchange: m.exchange.string, routingKey: m.routing_key.string)
            channel.incomingHeaderSeen = false
        case AMQP_BASIC_ACK_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirm(on: channel, tag: m.delivery_tag, multiple: m.multiple != 0, ack: true)
        case AMQP_BASIC_NACK_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirm(on: channel, tag: m.delivery_tag, multiple: m.multiple != 0, ack: false)
        case AMQP_BASIC_CANCEL_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = m.consumer_tag.string
            if let registration = channel.consumers.removeValue(forKey: tag) {
                logger.warning("broker cancelled consumer (queue deleted or failed over)",
                               metadata: ["queue": "\(registration.queue)", "consumer": "\(tag)"])
                registration.sink.finish()
            }
        case AMQP_CHANNEL_CLOSE_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            channelClosedByBroker(channel, code: m.reply_code, text: m.reply_text.string)
        default:
            handleReply(id, decoded, on: channel)
        }
    }

    func handleConnectionMethod(_ id: amqp_method_number_t, _ decoded: UnsafeMutableRawPointer?) {
        switch id {
        case AMQP_CONNECTION_CLOSE_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            _ = encoder?.sendConnectionCloseOK()
            connectionFailed(.connectionClosed(code: m.reply_code, text: m.reply_text.string))
        case AMQP_CONNECTION_BLOCKED_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            blocked = true
            status.withLock { $0.blocked = true }
            logger.warning("broker blocked publishing", metadata: ["reason": "\(m.reason.string)"])
            eventContinuation.yield(.blocked(reason: m.reason.string))
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            blocked = false
            status.withLock { $0.blocked = false }
            logger.info("broker unblocked publishing")
            let renewed = ContinuousClock.now + configuration.operationTimeout
            for channel in channels.values {
                for index in channel.pending.indices { channel.pending[index].deadline = renewed }
            }
            eventContinuation.yield(.unblocked)
            for number in channels.keys.sorted() {
                if let channel = channels[number] { sendWaitingPublishes(on: channel) }
            }
        default:
            logger.debug("ignored connection method", metadata: ["method": "\(id)"])
        }
    }

    func confirm(on channel: ChannelState, tag: UInt64, multiple: Bool, ack: Bool) {
        channel.confirmTracker.confirm(tag: tag, multiple: multiple, ack: ack)
        sendWaitingPublishes(on: channel)
    }

    func handleReply(_ id: amqp_method_number_t, _ decoded: UnsafeMutableRawPointer?, on channel: ChannelState) {
        if id == AMQP_CHANNEL_CLOSE_OK_METHOD { settleAbandonedBeforeClose(on: channel) }
        guard let rpc = channel.pending.first, MethodEncoder.replyMethod(for: rpc.request) == id else {
            logger.error("unexpected method from broker", metadata: ["channel": "\(channel.number)", "method": "\(id)"])
            connectionFailed(.library(status: AMQP_STATUS_UNEXPECTED_STATE.rawValue, text: "unexpected method \(id)"))
            return
        }
        channel.pending.removeFirst()
        var reply = RPCReply.done
        switch id {
        case AMQP_CHANNEL_OPEN_OK_METHOD:
            channel.isOpen = true
        case AMQP_CHANNEL_CLOSE_OK_METHOD:
            forget(channel)
        case AMQP_QUEUE_DECLARE_OK_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_queue_declare_ok_t.self).pointee
            reply = .queue(QueueState(name: m.queue.string, messageCount: Int(m.message_count), consumerCount: Int(m.consumer_count)))
        case AMQP_QUEUE_PURGE_OK_METHOD:
            reply = .messageCount(Int(decoded!.assumingMemoryBound(to: amqp_queue_purge_ok_t.self).pointee.message_count))
        case AMQP_QUEUE_DELETE_OK_METHOD:
            reply = .messageCount(Int(decoded!.assumingMemoryBound(to: amqp_queue_delete_ok_t.self).pointee.message_count))
        default:
            break
        }
        rpc.completion?(.success(reply))
    }

    /// A broker closing a channel at the client's request may drop replies to operations sent
    /// just before the close (a `basic.cancel` in progress): those are settled here, a cancel as
    /// done (its consumer is gone with the channel), anything else as failed.
    func settleAbandonedBeforeClose(on channel: ChannelState) {
        guard let closeIndex = channel.pending.firstIndex(where: { if case .channelClose = $0.request { true } else { false } }),
              closeIndex > 0 else { return }
        let abandoned = channel.pending.prefix(closeIndex)
        channel.pending.removeFirst(closeIndex)
        for rpc in abandoned {
            if case .cancel = rpc.request {
                rpc.completion?(.success(.done))
            } else {
                rpc.completion?(.failure(.closedByClient))
            }
        }
    }

    /// The broker closed a channel because an operation on it failed (403, 404, 405, 406, …).
    /// The operations in flight on it fail with that error; the channel is reopened at once with
    /// its consumers, so one bad operation does not take the caller's channel away.
    func channelClosedByBroker(_ channel: ChannelState, code: UInt16, text: String) {
        if let encoder {
            let status = encoder.sendChannelCloseOK(on: channel.number)
            if status != AMQP_STATUS_OK.rawValue { return connectionFailed(Self.libraryError(status)) }
        }
        let error = AMQPError.channelClosed(code: code, text: text)
        let pending = channel.pending
        // An operation that caused the close gets the error and reports it as it sees fit (a
        // passive declare's 404 is an answer, not a fault); otherwise nobody else would.
        let level: Logger.Level = pending.contains { $0.completion != nil } ? .debug : .warning
        logger.log(level: level, "broker closed channel", metadata: ["channel": "\(channel.number)", "error": "\(error)"])
        channel.pending.removeAll()
        let unconfirmed = channel.confirmTracker.takeUnconfirmed()
        channel.resetForReopen(inbox: inbox)
        for rpc in pending { rpc.completion?(.failure(error)) }
        for publication in unconfirmed { publication.complete(.failure(error)) }
        if channel.closingByClient {
            forget(channel)
            return
        }
        guard session != nil, channels[channel.number] === channel else { return }
        reopen(channel)
    }

    static func libraryError(_ status: Int32) -> AMQPError {
        .library(status: status, text: String(cString: amqp_error_string2(status)))
    }
}

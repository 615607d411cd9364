import CRabbitMQ
import Foundation

/// Writes AMQP methods to a session. All C memory comes from the arena and lives only for the
/// duration of one call. On plain TCP, publishes and acknowledgements are coalesced in a
/// `FrameWriter` (written by `flush`, and before anything else is sent); every other frame goes
/// through librabbitmq.
struct MethodEncoder {
    let session: Session
    let arena: CArena
    let writer: FrameWriter?

    init(session: Session, arena: CArena) {
        self.session = session
        self.arena = arena
        // Two heartbeat intervals without a sign of the peer: what librabbitmq's read path allows.
        let stallLimit: Duration? = session.heartbeatSeconds > 0 ? .seconds(2 * session.heartbeatSeconds) : nil
        writer = session.usesPlainSocket
            ? FrameWriter(fileDescriptor: session.fileDescriptor, frameMax: Int(amqp_get_frame_max(session.state)),
                          stallLimit: stallLimit) : nil
    }

    /// Writes the coalesced publishes and acks; returns the librabbitmq status.
    func flush() -> Int32 {
        guard let writer, !writer.isEmpty else { return AMQP_STATUS_OK.rawValue }
        return writer.flush()
    }

    /// Sends through librabbitmq once the coalesced frames before it are written.
    private func afterFlush(_ send: () -> Int32) -> Int32 {
        let status = flush()
        return status == AMQP_STATUS_OK.rawValue ? send() : status
    }

    /// Sends a synchronous method; returns the librabbitmq status.
    func send(_ request: RPCRequest, on channel: UInt16) -> Int32 {
        afterFlush { sendNow(request, on: channel) }
    }

    private func sendNow(_ request: RPCRequest, on channel: UInt16) -> Int32 {
        arena.reset()
        defer { arena.reset() }
        let state = session.state
        switch request {
        case .channelOpen:
            var m = amqp_channel_open_t(out_of_band: amqp_empty_bytes)
            return amqp_send_method(state, channel, AMQP_CHANNEL_OPEN_METHOD, &m)
        case .channelClose:
            var m = amqp_channel_close_t(reply_code: UInt16(AMQP_REPLY_SUCCESS), reply_text: arena.bytes("closed by client"),
                                         class_id: 0, method_id: 0)
            return amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_METHOD, &m)
        case .confirmSelect:
            var m = amqp_confirm_select_t(nowait: 0)
            return amqp_send_method(state, channel, AMQP_CONFIRM_SELECT_METHOD, &m)
        case .qos(let count, let global):
            var m = amqp_basic_qos_t(prefetch_size: 0, prefetch_count: count, global: global ? 1 : 0)
            return amqp_send_method(state, channel, AMQP_BASIC_QOS_METHOD, &m)
        case .exchangeDeclare(let spec, let passive):
            var m = amqp_exchange_declare_t(
                ticket: 0, exchange: arena.bytes(spec.name), type: arena.bytes(spec.kind.name), passive: passive ? 1 : 0,
                durable: spec.durable ? 1 : 0, auto_delete: spec.autoDelete ? 1 : 0, internal: spec.internal ? 1 : 0,
                nowait: 0, arguments: arena.table(spec.arguments))
            return amqp_send_method(state, channel, AMQP_EXCHANGE_DECLARE_METHOD, &m)
        case .exchangeDelete(let name, let ifUnused):
            var m = amqp_exchange_delete_t(ticket: 0, exchange: arena.bytes(name), if_unused: ifUnused ? 1 : 0, nowait: 0)
            return amqp_send_method(state, channel, AMQP_EXCHANGE_DELETE_METHOD, &m)
        case .queueDeclare(let spec):
            var m = amqp_queue_declare_t(
                ticket: 0, queue: arena.bytes(spec.name), passive: 0, durable: spec.durable ? 1 : 0,
                exclusive: spec.exclusive ? 1 : 0, auto_delete: spec.autoDelete ? 1 : 0, nowait: 0,
                arguments: arena.table(spec.arguments.table))
            return amqp_send_method(state, channel, AMQP_QUEUE_DECLARE_METHOD, &m)
        case .queueDeclarePassive(let name):
            var m = amqp_queue_declare_t(ticket: 0, queue: arena.bytes(name), passive: 1, durable: 0, exclusive: 0,
                                         auto_delete: 0, nowait: 0, arguments: amqp_empty_table)
            return amqp_send_method(state, channel, AMQP_QUEUE_DECLARE_METHOD, &m)
        case .queueBind(let b):
            var m = amqp_queue_bind_t(ticket: 0, queue: arena.bytes(b.queue), exchange: arena.bytes(b.exchange),
                                      routing_key: arena.bytes(b.routingKey), nowait: 0, arguments: arena.table(b.arguments))
            return amqp_send_method(state, channel, AMQP_QUEUE_BIND_METHOD, &m)
        case .queueUnbind(let b):
            var m = amqp_queue_unbind_t(ticket: 0, queue: arena.bytes(b.queue), exchange: arena.bytes(b.exchange),
                                        routing_key: arena.bytes(b.routingKey), arguments: arena.table(b.arguments))
            return amqp_send_method(state, channel, AMQP_QUEUE_UNBIND_METHOD, &m)
        case .exchangeBind(let b):
            var m = amqp_exchange_bind_t(ticket: 0, destination: arena.bytes(b.destination), source: arena.bytes(b.source),
                                         routing_key: arena.bytes(b.routingKey), nowait: 0, arguments: arena.table(b.arguments))
            return amqp_send_method(state, channel, AMQP_EXCHANGE_BIND_METHOD, &m)
        case .queuePurge(let name):
            var m = amqp_queue_purge_t(ticket: 0, queue: arena.bytes(name), nowait: 0)
            return amqp_send_method(state, channel, AMQP_QUEUE_PURGE_METHOD, &m)
        case .queueDelete(let name, let ifUnused, let ifEmpty):
            var m = amqp_queue_delete_t(ticket: 0, queue: arena.bytes(name), if_unused: ifUnused ? 1 : 0,
                                        if_empty: ifEmpty ? 1 : 0, nowait: 0)
            return amqp_send_method(state, channel, AMQP_QUEUE_DELETE_METHOD, &m)
        case .consume(let queue, let tag, let exclusive, let arguments):
            var m = amqp_basic_consume_t(ticket: 0, queue: arena.bytes(queue), consumer_tag: arena.bytes(tag), no_local: 0,
                                         no_ack: 0, exclusive: exclusive ? 1 : 0, nowait: 0, arguments: arena.table(arguments))
            return amqp_send_method(state, channel, AMQP_BASIC_CONSUME_METHOD, &m)
        case .cancel(let tag):
            var m = amqp_basic_cancel_t(consumer_tag: arena.bytes(tag), nowait: 0)
            return amqp_send_method(state, channel, AMQP_BASIC_CANCEL_METHOD, &m)
        }
    }

    /// The reply method that answers a request.
    static func replyMethod(for request: RPCRequest) -> amqp_method_number_t {
        switch request {
        case .channelOpen: return AMQP_CHANNEL_OPEN_OK_METHOD
        case .channelClose: return AMQP_CHANNEL_CLOSE_OK_METHOD
        case .confirmSelect: return AMQP_CONFIRM_SELECT_OK_METHOD
        case .qos: return AMQP_BASIC_QOS_OK_METHOD
        case .exchangeDeclare: return AMQP_EXCHANGE_DECLARE_OK_METHOD
        case .exchangeDelete: return AMQP_EXCHANGE_DELETE_OK_METHOD
        case .queueDeclare, .queueDeclarePassive: return AMQP_QUEUE_DECLARE_OK_METHOD
        case .queueBind: return AMQP_QUEUE_BIND_OK_METHOD
        case .queueUnbind: return AMQP_QUEUE_UNBIND_OK_METHOD
        case .exchangeBind: return AMQP_EXCHANGE_BIND_OK_METHOD
        case .queuePurge: return AMQP_QUEUE_PURGE_OK_METHOD
        case .queueDelete: return AMQP_QUEUE_DELETE_OK_METHOD
        case .consume: return AMQP_BASIC_CONSUME_OK_METHOD
        case .cancel: return AMQP_BASIC_CANCEL_OK_METHOD
        }
    }

    func publish(_ p: Publication, on channel: UInt16) -> Int32 {
        arena.reset()
        defer { arena.reset() }
        var properties = arena.properties(p.properties)
        let exchange = arena.bytes(p.exchange)
        let routingKey = arena.bytes(p.routingKey)
        return p.body.withUnsafeBytes { raw in
            if let writer {
                var method = amqp_basic_publish_t(ticket: 0, exchange: exchange, routing_key: routingKey,
                                                  mandatory: p.mandatory ? 1 : 0, immediate: 0)
                return writer.appendPublish(channel: channel, method: &method, properties: &properties, body: raw)
            }
            return amqp_basic_publish(session.state, channel, exchange, routingKey, p.mandatory ? 1 : 0, 0, &properties,
                                      amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
        }
    }

    /// Sends an acknowledgement: coalesced into this turn's write on plain TCP.
    func send(_ frame: AckTracker.Frame, on channel: UInt16) -> Int32 {
        switch frame {
        case .ack(let tag, let multiple):
            var m = amqp_basic_ack_t(delivery_tag: tag, multiple: multiple ? 1 : 0)
            return sendMethod(AMQP_BASIC_ACK_METHOD, &m, on: channel)
        case .nack(let tag, let requeue):
            var m = amqp_basic_nack_t(delivery_tag: tag, multiple: 0, requeue: requeue ? 1 : 0)
            return sendMethod(AMQP_BASIC_NACK_METHOD, &m, on: channel)
        case .reject(let tag, let requeue):
            var m = amqp_basic_reject_t(delivery_tag: tag, requeue: requeue ? 1 : 0)
            return sendMethod(AMQP_BASIC_REJECT_METHOD, &m, on: channel)
        }
    }

    private func sendMethod<Method: BitwiseCopyable>(_ method: amqp_method_number_t, _ decoded: inout Method, on channel: UInt16) -> Int32 {
        if let writer { return writer.appendMethod(method, &decoded, channel: channel) }
        return amqp_send_method(session.state, channel, method, &decoded)
    }

    func sendChannelCloseOK(on channel: UInt16) -> Int32 {
        afterFlush {
            var m = amqp_channel_close_ok_t(dummy: 0)
            return amqp_send_method(session.state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &m)
        }
    }

    func sendConnectionCloseOK() -> Int32 {
        // The broker has closed the connection: nothing more of ours will be read.
        writer?.discard()
        var m = amqp_connection_close_ok_t(dummy: 0)
        return amqp_send_method(session.state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &m)
    }

    func sendHeartbeat() -> Int32 {
        afterFlush {
            var frame = amqp_frame_t()
            frame.frame_type = UInt8(AMQP_FRAME_HEARTBEAT)
            frame.channel = 0
            return amqp_send_frame(session.state, &frame)
        }
    }
}

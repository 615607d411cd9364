import CRabbitMQ
import Foundation

/// A message's `basic` properties as read from the wire, kept undecoded: the string fields'
/// bytes sit in a byte buffer beside the message body, and `decode` builds `BasicProperties`
/// only when a consumer asks for them. The I/O thread thus copies a few bytes per message
/// instead of creating up to nine `String`s it may never need. Headers, a nested table, are
/// decoded at once (they are rare on hot paths, and cannot be copied flat).
struct RawProperties {
    /// Where a string field's bytes are in the buffer.
    struct Span {
        var start: UInt32 = 0
        var count: UInt32 = 0
    }

    var flags: UInt32 = 0
    var contentType = Span()
    var contentEncoding = Span()
    var correlationID = Span()
    var replyTo = Span()
    var expiration = Span()
    var messageID = Span()
    var type = Span()
    var userID = Span()
    var appID = Span()
    var deliveryMode: UInt8 = 0
    var priority: UInt8 = 0
    var timestamp: UInt64 = 0
    var headers: FieldTable?

    init() {}

    /// Copies `c`'s fields, appending the string fields' bytes to `bytes` (the spans count from
    /// its start).
    init(_ c: amqp_basic_properties_t, appendingTo bytes: inout [UInt8]) {
        flags = c._flags
        guard flags != 0 else { return }
        func copy(_ flag: Int32, _ field: amqp_bytes_t) -> Span {
            guard flags & UInt32(flag) != 0, field.len > 0, let start = field.bytes else { return Span() }
            let span = Span(start: UInt32(bytes.count), count: UInt32(field.len))
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: start, count: field.len))
            return span
        }
        contentType = copy(AMQP_BASIC_CONTENT_TYPE_FLAG, c.content_type)
        contentEncoding = copy(AMQP_BASIC_CONTENT_ENCODING_FLAG, c.content_encoding)
        correlationID = copy(AMQP_BASIC_CORRELATION_ID_FLAG, c.correlation_id)
        replyTo = copy(AMQP_BASIC_REPLY_TO_FLAG, c.reply_to)
        expiration = copy(AMQP_BASIC_EXPIRATION_FLAG, c.expiration)
        messageID = copy(AMQP_BASIC_MESSAGE_ID_FLAG, c.message_id)
        type = copy(AMQP_BASIC_TYPE_FLAG, c.type)
        userID = copy(AMQP_BASIC_USER_ID_FLAG, c.user_id)
        appID = copy(AMQP_BASIC_APP_ID_FLAG, c.app_id)
        deliveryMode = c.delivery_mode
        priority = c.priority
        timestamp = c.timestamp
        if flags & UInt32(AMQP_BASIC_HEADERS_FLAG) != 0 { headers = FieldTable(c.headers) }
    }

    /// Builds the `BasicProperties` these stand for; `bytes` starts where the buffer the spans
    /// count from started.
    func decode(_ bytes: UnsafeRawBufferPointer) -> BasicProperties {
        guard flags != 0 else { return BasicProperties() }
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        func string(_ flag: Int32, _ span: Span) -> String? {
            guard has(flag) else { return nil }
            let start = Int(span.start)
            return String(decoding: bytes[start..<(start + Int(span.count))], as: UTF8.self)
        }
        return BasicProperties(
            contentType: string(AMQP_BASIC_CONTENT_TYPE_FLAG, contentType),
            contentEncoding: string(AMQP_BASIC_CONTENT_ENCODING_FLAG, contentEncoding),
            headers: headers,
            deliveryMode: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? deliveryMode : nil,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? priority : nil,
            correlationID: string(AMQP_BASIC_CORRELATION_ID_FLAG, correlationID),
            replyTo: string(AMQP_BASIC_REPLY_TO_FLAG, replyTo),
            expiration: string(AMQP_BASIC_EXPIRATION_FLAG, expiration),
            messageID: string(AMQP_BASIC_MESSAGE_ID_FLAG, messageID),
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: TimeInterval(timestamp)) : nil,
            type: string(AMQP_BASIC_TYPE_FLAG, type),
            userID: string(AMQP_BASIC_USER_ID_FLAG, userID),
            appID: string(AMQP_BASIC_APP_ID_FLAG, appID))
    }
}
